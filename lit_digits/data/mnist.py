"""MNIST from torchvision's on-disk layout: ``data_dir/MNIST/raw/*-ubyte`` (IDX files)."""

import math
from pathlib import Path

import numpy as np
import torch
import torchvision

from lit_digits.data.datamodule import ImageDataModule, Split
from lit_digits.data.split_check import checked_split
from lit_digits.errors import LitDigitsError

_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049
_SPLIT_FILES = {True: "train", False: "t10k"}


class MNISTDataModule(ImageDataModule):
    """MNIST handwritten digits: 60,000 training and 10,000 test images, 1 x 28 x 28.

    See :class:`~lit_digits.data.datamodule.ImageDataModule` for the arguments; MNIST
    defaults to no augmentation (and digits are never flipped).
    """

    classes = tuple(str(digit) for digit in range(10))
    image_shape = (1, 28, 28)
    train_size = 60_000
    mean = (0.1307,)

    @property
    def expected_files(self) -> list[Path]:
        return [
            Path("MNIST/raw") / f"{prefix}-{kind}"
            for prefix in _SPLIT_FILES.values()
            for kind in ("images-idx3-ubyte", "labels-idx1-ubyte")
        ]

    def download(self) -> None:
        for train in (True, False):
            torchvision.datasets.MNIST(self.data_dir, train=train, download=True)

    def read_split(self, train: bool) -> Split:
        raw = self.data_dir / "MNIST" / "raw"
        prefix = _SPLIT_FILES[train]
        images = read_idx(raw / f"{prefix}-images-idx3-ubyte", _IMAGES_MAGIC, ndim=3)
        labels = read_idx(raw / f"{prefix}-labels-idx1-ubyte", _LABELS_MAGIC, ndim=1)
        images, labels = checked_split(f"MNIST {prefix} files in {raw}", images, labels, self.image_shape, 10)
        return torch.from_numpy(images.copy()), torch.from_numpy(labels)


def read_idx(path: Path, magic: int, ndim: int) -> np.ndarray:
    """Read an uint8 IDX file (big-endian header: magic, then one int32 size per dimension)."""
    data = path.read_bytes()
    header_size = 4 * (1 + ndim)
    if len(data) < header_size or int.from_bytes(data[:4], "big") != magic:
        raise LitDigitsError(f"{path} is not an MNIST IDX file (bad header); delete it to download a fresh copy")
    shape = tuple(int.from_bytes(data[4 * i : 4 * i + 4], "big") for i in range(1, ndim + 1))
    expected = header_size + math.prod(shape)
    if len(data) != expected:
        raise LitDigitsError(
            f"{path} is truncated or corrupt: {len(data)} bytes, its header promises {expected}; "
            "delete it to download a fresh copy"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)
