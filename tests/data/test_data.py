"""MNISTDataModule and CIFAR10DataModule: reading the real formats, loaders, clear errors."""

import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.tiny_data import CIFAR_PER_BATCH, MNIST_SIZES, write_cifar_batch, write_idx

from lit_digits import CIFAR10DataModule, LitDigitsError, MNISTDataModule


def first_training_batch(dm) -> tuple[torch.Tensor, torch.Tensor]:
    """The first training batch of the data module ``dm``, prepared and set up as a fit does."""
    dm.prepare_data()
    dm.setup("fit")
    return next(iter(dm.train_dataloader()))


def test_mnist_reads_idx_files_into_uint8_tensors(mnist_dir):
    dm = MNISTDataModule(mnist_dir, batch_size=16)
    images, labels = first_training_batch(dm)
    assert images.shape == (16, 1, 28, 28) and images.dtype == torch.uint8
    assert labels.dtype == torch.int64 and 0 <= labels.min() and labels.max() <= 9
    assert len(dm.train_dataloader()) == MNIST_SIZES["train"] // 16


def test_cifar_reads_batch_pickles_without_checksums(cifar_dir):
    dm = CIFAR10DataModule(cifar_dir, batch_size=32)
    images, _ = first_training_batch(dm)
    assert images.shape == (32, 3, 32, 32) and images.dtype == torch.uint8
    assert len(dm.train_dataloader().dataset) == 5 * CIFAR_PER_BATCH


def test_cifar_keeps_pixel_layout_of_the_pickles(cifar_dir):
    raw = pickle.loads((cifar_dir / "cifar-10-batches-py" / "test_batch").read_bytes())
    dm = CIFAR10DataModule(cifar_dir)
    images, labels = dm.read_split(train=False)
    first = torch.from_numpy(raw["data"][0])
    assert torch.equal(images[0, 0].flatten(), first[:1024])  # red plane, row by row
    assert torch.equal(images[0, 2].flatten(), first[2048:])
    assert labels.tolist() == raw["labels"]


def test_training_batches_have_fixed_size_and_evaluation_keeps_every_image(mnist_dir):
    dm = MNISTDataModule(mnist_dir, batch_size=32)
    dm.setup("fit")
    assert {len(y) for _, y in dm.train_dataloader()} == {32}
    assert sum(len(y) for _, y in dm.val_dataloader()) == MNIST_SIZES["t10k"]


def test_validation_defaults_to_test_split_or_holds_out_val_size(mnist_dir):
    dm = MNISTDataModule(mnist_dir, batch_size=8)
    dm.setup("fit")
    assert len(dm.val_dataloader().dataset) == MNIST_SIZES["t10k"]
    held_out = MNISTDataModule(mnist_dir, batch_size=8, val_size=16)
    held_out.setup("fit")
    assert len(held_out.val_dataloader().dataset) == 16
    assert len(held_out.train_dataloader().dataset) == MNIST_SIZES["train"] - 16


def test_shuffling_is_seeded(mnist_dir):
    def first_labels() -> list[int]:
        torch.manual_seed(3)
        dm = MNISTDataModule(mnist_dir, batch_size=32)
        dm.setup("fit")
        return next(iter(dm.train_dataloader()))[1].tolist()

    assert first_labels() == first_labels()


@pytest.mark.parametrize("keep_bytes", [10, 1000])
def test_truncated_mnist_file_is_a_clear_error(mnist_dir, keep_bytes):
    path = mnist_dir / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:keep_bytes])
    dm = MNISTDataModule(mnist_dir)
    with pytest.raises(LitDigitsError, match="train-images-idx3-ubyte"):
        dm.setup("fit")


def test_mnist_labels_out_of_range_are_a_clear_error(mnist_dir):
    path = mnist_dir / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    data = bytearray(path.read_bytes())
    data[-1] = 42
    path.write_bytes(bytes(data))
    with pytest.raises(LitDigitsError, match="t10k"):
        MNISTDataModule(mnist_dir).setup("test")


def test_truncated_cifar_pickle_is_a_clear_error(cifar_dir):
    path = cifar_dir / "cifar-10-batches-py" / "data_batch_3"
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(LitDigitsError, match="data_batch_3 is truncated or corrupt"):
        CIFAR10DataModule(cifar_dir).setup("fit")


def test_cifar_pickle_of_wrong_shape_is_a_clear_error(cifar_dir):
    path = cifar_dir / "cifar-10-batches-py" / "test_batch"
    write_cifar_batch(path, torch.zeros(4, 3, 16, 16, dtype=torch.uint8).numpy(), torch.zeros(4).long().numpy())
    with pytest.raises(LitDigitsError, match=r"images should be uint8 N x 3 x 32 x 32, got uint8 of shape 4 x 768"):
        CIFAR10DataModule(cifar_dir).setup("test")


def test_cifar_pickle_that_would_run_code_is_refused(cifar_dir):
    path = cifar_dir / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(pickle.dumps(Path("/")))
    with pytest.raises(LitDigitsError, match="corrupt"):
        CIFAR10DataModule(cifar_dir).setup("test")


def test_missing_cifar_without_network_names_data_dir_and_files(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise RuntimeError("Error downloading cifar-10-python.tar.gz:\n<urlopen error>")

    monkeypatch.setattr("torchvision.datasets.CIFAR10.__init__", no_network)
    with pytest.raises(LitDigitsError) as error:
        CIFAR10DataModule(tmp_path / "empty").prepare_data()
    message = str(error.value)
    assert str(tmp_path / "empty") in message and "cifar-10-batches-py/data_batch_1" in message
    assert "\n" not in message


def test_missing_files_are_downloaded_with_torchvision(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr("torchvision.datasets.CIFAR10.__init__", lambda self, root, download: calls.append(root))
    CIFAR10DataModule(tmp_path).prepare_data()
    assert calls == [tmp_path]


def test_existing_copy_is_used_without_download(cifar_dir, monkeypatch):
    monkeypatch.setattr("torchvision.datasets.CIFAR10.__init__", pytest.fail)
    CIFAR10DataModule(cifar_dir).prepare_data()


def test_bad_settings_are_refused():
    with pytest.raises(LitDigitsError, match="padding_mode"):
        CIFAR10DataModule(padding_mode="mirror")
    with pytest.raises(LitDigitsError, match="batch_size"):
        MNISTDataModule(batch_size=0)


@pytest.mark.parametrize(
    ("data", "labels", "message"),
    [
        (np.zeros((20, 3072)), [3] * 20, "images should be uint8 N x 3 x 32 x 32, got float64 of shape 20 x 3072"),
        (np.zeros((20, 3072), np.uint8), ["3"] * 20, "labels should be integers, got str32 of shape 20, such as '3'"),
        (np.zeros((20, 3072), np.uint8), [3.0] * 20, "labels should be integers, got float64 of shape 20"),
        (np.zeros((20, 3072), np.uint8), [3] * 19, "20 images but 19 labels"),
        (np.zeros((20, 3072), np.uint8), [-1] + [3] * 19, "labels should be in 0..9, got -1..3"),
        (np.zeros((0, 3072), np.uint8), [], "holds no images"),
    ],
)
def test_cifar_batch_of_wrong_pixel_or_label_type_count_or_range_is_one_line(data, labels, message, cifar_dir):
    path = cifar_dir / "cifar-10-batches-py" / "test_batch"
    with path.open("wb") as file:  # protocol 4: 2 pickles empty bytes as a call, which the reader refuses
        pickle.dump({"data": data, "labels": labels}, file, protocol=4)
    with pytest.raises(LitDigitsError, match=re.escape(message)) as error:
        CIFAR10DataModule(cifar_dir).setup("test")
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_mnist_images_and_labels_that_disagree_in_count_are_one_line(mnist_dir):
    raw = mnist_dir / "MNIST" / "raw"
    write_idx(raw / "t10k-labels-idx1-ubyte", np.arange(39) % 10, 2049)
    with pytest.raises(LitDigitsError, match=re.escape(f"MNIST t10k files in {raw}: 40 images but 39 labels")):
        MNISTDataModule(mnist_dir).setup("test")
