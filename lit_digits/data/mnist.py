"""MNIST from torchvision's on-disk layout, ``data_dir/MNIST/raw/*-ubyte`` (IDX files), or else
from the copy shipped with lit_digits."""

import logging
import math
from pathlib import Path

import numpy as np
import torch

from lit_digits.data.datamodule import ImageDataModule, Split
from lit_digits.data.shipped_mnist import SHIPPED_MNIST, read_shipped
from lit_digits.data.split_check import checked_split
from lit_digits.errors import LitDigitsError

log = logging.getLogger(__name__)

_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049
_SPLIT_FILES = {True: "train", False: "t10k"}
_FIX = "delete it, and lit_digits reads the copy of MNIST it ships"


class MNISTDataModule(ImageDataModule):
    """MNIST handwritten digits: 60,000 training and 10,000 test images, 1 x 28 x 28.

    A whole copy in ``data_dir`` (the four IDX files) is read as it is; without one, the copy
    shipped with lit_digits is (``shipped_mnist``): MNIST is never downloaded, and needs no network.
    See :class:`~lit_digits.data.datamodule.ImageDataModule` for the arguments; MNIST
    defaults to no augmentation (and digits are never flipped). Image files to classify are made the way
    MNIST's digits were (``lit_digits.data.mnist_digit``), so a digit dark on light paper reads right too.
    """

    classes = tuple(str(digit) for digit in range(10))
    image_shape = (1, 28, 28)
    train_size = 60_000
    mean = (0.1307,)
    std = (0.3081,)
    mnist_digits = True

    @property
    def expected_files(self) -> list[Path]:
        return [
            Path("MNIST/raw") / f"{prefix}-{kind}"
            for prefix in _SPLIT_FILES.values()
            for kind in ("images-idx3-ubyte", "labels-idx1-ubyte")
        ]

    def fetch_missing(self, missing: list[Path]) -> None:
        """Nothing to fetch: ``read_split`` reads the shipped copy. Says so if ``data_dir`` holds part of a copy,
        which is then left unread."""
        if len(missing) < len(self.expected_files):
            log.info(
                f"data_dir {self.data_dir} lacks {', '.join(str(f) for f in missing)}, so lit_digits reads the "
                "copy of MNIST it ships instead"
            )

    def readable_offline(self) -> bool:
        """Always: without a whole copy in ``data_dir``, the shipped one is read."""
        return True

    def read_split(self, train: bool) -> Split:
        folder = SHIPPED_MNIST if self.missing_files() else self.data_dir / "MNIST" / "raw"
        prefix = _SPLIT_FILES[train]
        images = read_idx_file(folder, f"{prefix}-images-idx3-ubyte", _IMAGES_MAGIC, ndim=3)
        labels = read_idx_file(folder, f"{prefix}-labels-idx1-ubyte", _LABELS_MAGIC, ndim=1)
        images, labels = checked_split(f"MNIST {prefix} files in {folder}", images, labels, self.image_shape, 10, _FIX)
        return torch.from_numpy(images.copy()), torch.from_numpy(labels)


def read_idx_file(folder: Path, name: str, magic: int, ndim: int) -> np.ndarray:
    """The IDX file ``name`` of ``folder``: a ``data_dir``'s ``MNIST/raw``, or ``SHIPPED_MNIST``, whose
    ``name.gz`` is checked against its sums (``read_shipped``)."""
    if folder == SHIPPED_MNIST:
        return read_idx(read_shipped(name), folder / f"{name}.gz", magic, ndim)
    return read_idx((folder / name).read_bytes(), folder / name, magic, ndim)


def read_idx(data: bytes, path: Path, magic: int, ndim: int) -> np.ndarray:
    """Decode ``data``, the content of the uint8 IDX file ``path`` (big-endian header: magic, then one
    int32 size per dimension)."""
    header_size = 4 * (1 + ndim)
    if len(data) < header_size or int.from_bytes(data[:4], "big") != magic:
        raise LitDigitsError(f"{path} is not an MNIST IDX file (bad header); {_FIX}")
    shape = tuple(int.from_bytes(data[4 * i : 4 * i + 4], "big") for i in range(1, ndim + 1))
    expected = header_size + math.prod(shape)
    if len(data) != expected:
        raise LitDigitsError(
            f"{path} is truncated or corrupt: {len(data)} bytes, its header promises {expected}; {_FIX}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)
