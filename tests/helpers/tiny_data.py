"""Tiny MNIST and CIFAR-10 copies written in the real on-disk formats (torchvision's layout)."""

import pickle
from pathlib import Path

import numpy as np

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


def write_cifar(root: Path, per_batch: int = CIFAR_PER_BATCH) -> Path:
    """A tiny CIFAR-10 copy in torchvision's layout under ``root``, ``per_batch`` images a batch file."""
    rng = np.random.default_rng(0)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        write_cifar_batch(folder / name, *labelled_images(rng, per_batch, (3, 32, 32)))
    return root


INDEXED_TRAIN, INDEXED_TEST = 64, 40
"""The split sizes of ``indexed_mnist``."""


def indexed_mnist(root: Path) -> Path:
    """MNIST files whose image i stores i in pixels (0, 0) and (0, 1)."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", INDEXED_TRAIN), ("t10k", INDEXED_TEST)):
        images = np.random.default_rng(0).integers(0, 256, (n, 28, 28)).astype(np.uint8)
        images[:, 0, 0], images[:, 0, 1] = np.arange(n) % 256, np.arange(n) // 256
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images, 2051)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10, 2049)
    return root
