"""MNIST shipped inside the package: read when data_dir holds no copy, checked against its sums, never
downloaded; in the wheel and in what a fresh installation of it reads.

Most tests replace the shipped copy with a tiny one (``tiny_shipped_copy``); one fit and test reads
the real one, with every download failing, and the wheel test checks the real files' sums."""

import gzip
import hashlib
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from helpers.cli import CONFIGS
from helpers.tiny_data import labelled_images, write_idx

from lit_digits import LitDigitsError, MNISTDataModule
from lit_digits.data import mnist, shipped_mnist

SHIPPED_SIZES = {"train": 32, "t10k": 16}
"""The tiny shipped copy's split sizes: not ``tiny_data.MNIST_SIZES``, so a test sees which copy was read."""


@pytest.fixture
def tiny_shipped_copy(tmp_path, monkeypatch) -> Path:
    """A tiny MNIST in place of the shipped copy: ``.gz`` files and their sums, as the package records them."""
    folder, unpacked, sums = tmp_path / "shipped", tmp_path / "unpacked", {}
    folder.mkdir()
    unpacked.mkdir()
    rng = np.random.default_rng(1)
    for prefix, n in SHIPPED_SIZES.items():
        images, labels = labelled_images(rng, n, (28, 28))
        for name, array, magic in ((f"{prefix}-images-idx3-ubyte", images, 2051),
                                   (f"{prefix}-labels-idx1-ubyte", labels, 2049)):  # fmt: skip
            write_idx(unpacked / name, array, magic)
            content = (unpacked / name).read_bytes()
            packed = gzip.compress(content, mtime=0)
            (folder / f"{name}.gz").write_bytes(packed)
            sums[name] = shipped_mnist.Sums(hashlib.sha256(packed).hexdigest(), hashlib.md5(content).hexdigest())
    monkeypatch.setattr(shipped_mnist, "SHIPPED_MNIST", folder)
    monkeypatch.setattr(mnist, "SHIPPED_MNIST", folder)
    monkeypatch.setattr(shipped_mnist, "SUMS", sums)
    return folder


def no_download(*args, **kwargs):
    raise AssertionError("MNIST is never downloaded")


def test_without_a_copy_in_data_dir_the_shipped_one_is_read_and_nothing_written(tiny_shipped_copy, tmp_path,
                                                                                monkeypatch):  # fmt: skip
    monkeypatch.setattr("torchvision.datasets.MNIST.__init__", no_download)
    dm = MNISTDataModule(tmp_path / "no_mnist", batch_size=8)
    dm.prepare_data()
    dm.setup("fit")
    assert len(dm.train_dataloader().dataset) == SHIPPED_SIZES["train"]
    assert len(dm.val_dataloader().dataset) == SHIPPED_SIZES["t10k"]
    assert not (tmp_path / "no_mnist").exists()


def test_a_copy_in_data_dir_wins_over_the_shipped_one(mnist_dir, monkeypatch):
    monkeypatch.setattr(mnist, "read_shipped", no_download)
    dm = MNISTDataModule(mnist_dir)
    dm.prepare_data()
    dm.setup("test")
    assert len(dm.test_dataloader().dataset) == 40  # conftest's tiny copy


def test_part_of_a_copy_in_data_dir_is_left_unread_and_said_so(mnist_dir, tiny_shipped_copy, caplog):
    (mnist_dir / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    dm = MNISTDataModule(mnist_dir)
    with caplog.at_level("INFO", logger="lit_digits"):
        dm.prepare_data()
    dm.setup("test")
    assert len(dm.test_dataloader().dataset) == SHIPPED_SIZES["t10k"]
    assert f"data_dir {mnist_dir} lacks MNIST/raw/t10k-labels-idx1-ubyte" in caplog.text
    assert "reads the copy of MNIST it ships" in caplog.text


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))


def wrong_content_sum(path: Path) -> None:
    """The recorded MD5 of the content no longer matches (what a recompressed file of other content gives)."""
    name = path.name.removesuffix(".gz")
    shipped_mnist.SUMS[name] = shipped_mnist.Sums(shipped_mnist.SUMS[name].gz_sha256, "0" * 32)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (Path.unlink, "this installation of lit_digits lacks its copy of MNIST"),
        (flip_a_byte, "fails its SHA-256 check"),
        (wrong_content_sum, "fails its MD5 check"),
    ],
)
def test_a_damaged_shipped_file_is_one_line_naming_it_and_what_to_do(tiny_shipped_copy, tmp_path, damage, message):
    path = tiny_shipped_copy / "t10k-images-idx3-ubyte.gz"
    damage(path)
    with pytest.raises(LitDigitsError) as error:
        MNISTDataModule(tmp_path / "no_mnist").setup("test")
    assert message in str(error.value) and str(path) in str(error.value) and "\n" not in str(error.value)
    assert "reinstall lit_digits, or put MNIST in --data.data_dir" in str(error.value)


def test_fit_and_test_read_the_shipped_mnist_while_every_download_fails(tmp_path, monkeypatch, in_process):
    """The one test that reads real data: a few batches of the README's first command."""

    def refused(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", refused)
    monkeypatch.setattr("torchvision.datasets.MNIST.download", refused)
    offline = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    recipe = ["--config", str(CONFIGS / "mnist.yaml"), "--data.data_dir", str(tmp_path / "no_mnist")]
    fitted = in_process.fit("mnist", tmp_path / "no_mnist", "--trainer.limit_train_batches", "3",
                            "--trainer.limit_val_batches", "2", cwd=tmp_path, env=offline)  # fmt: skip
    assert fitted.returncode == 0, fitted.stderr
    tested = in_process.run_cli("test", *recipe, "--ckpt_path", "best", "--trainer.limit_test_batches", "2",
                                "--trainer.enable_progress_bar", "false", cwd=tmp_path, env=offline)  # fmt: skip
    assert tested.returncode == 0, tested.stderr
    assert "test_acc" in tested.stdout
    assert not (tmp_path / "no_mnist").exists()
