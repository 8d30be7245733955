"""Tiny MNIST and CIFAR-10 copies written in the real on-disk formats, in temp dirs; a finished
run of them; the command line run in this process."""

import copy
import logging
import os
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, each worker and the commands it starts share the cores with the other
    workers: torch's own threads in each (one per core by default) would only contend."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        # A value already set wins; the commands the tests start read it from the environment.
        threads = os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))
        import torch

        torch.set_num_threads(int(threads))


MNIST_SIZES = {"train": 96, "t10k": 40}
CIFAR_PER_BATCH = 20


def write_idx(path: Path, array: np.ndarray, magic: int) -> None:
    """An IDX file: big-endian magic, one int32 per dimension, then uint8 data."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_cifar_batch(path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    """A CIFAR-10 batch pickle: ``data`` uint8 N x 3072, ``labels`` a list of ints."""
    with path.open("wb") as file:
        pickle.dump({"data": images.reshape(len(images), -1), "labels": labels.tolist()}, file, protocol=2)


def labelled_images(rng: np.random.Generator, n: int, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Random images whose mean brightness encodes the label, so a model can learn them."""
    labels = np.arange(n) % 10
    images = rng.integers(0, 60, size=(n, *shape)) + labels.reshape(-1, *[1] * len(shape)) * 20
    return images.astype(np.uint8), labels


def write_mnist(root: Path) -> Path:
    """A tiny MNIST copy in torchvision's layout under ``root``; returns ``root``."""
    rng = np.random.default_rng(0)
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n in MNIST_SIZES.items():
        images, labels = labelled_images(rng, n, (28, 28))
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images, 2051)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels, 2049)
    return root


@pytest.fixture
def mnist_dir(tmp_path: Path) -> Path:
    return write_mnist(tmp_path)


def write_cifar(root: Path, per_batch: int = CIFAR_PER_BATCH) -> Path:
    """A tiny CIFAR-10 copy in torchvision's layout under ``root``, ``per_batch`` images a batch file."""
    rng = np.random.default_rng(0)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        write_cifar_batch(folder / name, *labelled_images(rng, per_batch, (3, 32, 32)))
    return root


@pytest.fixture
def cifar_dir(tmp_path: Path) -> Path:
    return write_cifar(tmp_path)


@pytest.fixture(scope="module")
def fitted_run(tmp_path_factory) -> Path:
    """A finished one-epoch run of configs/mnist.yaml on tiny data, fit in this process (faster than
    a subprocess): ``WORK/runs/mnist/version_0``, with the data in ``WORK/data``."""
    from cli_helpers import CONFIGS, QUICK

    from lit_digits.cli import LitDigitsCLI

    work = tmp_path_factory.mktemp("work")
    data = write_mnist(work / "data")
    warnings.filterwarnings("ignore", message="LightningCLI's args parameter")  # pytest's own sys.argv
    LitDigitsCLI(args=["fit", "--config", str(CONFIGS / "mnist.yaml"), "--data.data_dir", str(data),
                       "--data.batch_size", "16", *QUICK, "--trainer.default_root_dir", str(work / "runs")])  # fmt: skip
    return work / "runs" / "mnist" / "version_0"


@pytest.fixture
def lit_digits_main(monkeypatch):
    """``lit_digits.cli.main`` in this process, returning its exit status (0 when it returns);
    the logging it sets up for the package is undone after the test. Its stderr is capsys's."""
    from lit_digits.cli import main

    package = logging.getLogger("lit_digits")
    for name in ("handlers", "propagate", "level"):
        monkeypatch.setattr(package, name, copy.copy(getattr(package, name)))

    def run(*args: str) -> int:
        try:
            main(list(args))
        except SystemExit as exit:
            return exit.code
        return 0

    return run


@pytest.fixture
def in_process(lit_digits_main, capsys):
    """``in_process.run_cli(...)`` and ``in_process.fit(...)``: ``cli_helpers.run_cli`` and ``fit`` run in
    this process (``cli_helpers.InProcess``), for tests that check the command, not a process."""
    from cli_helpers import InProcess

    return InProcess(lit_digits_main, capsys)
