"""CIFAR-10 from torchvision's on-disk layout: ``data_dir/cifar-10-batches-py/*`` (pickles)."""

import io
import os
import pickle
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import torchvision

from lit_digits.data.datamodule import DEFAULT_DATA_DIR, ImageDataModule, Split
from lit_digits.data.split_check import checked_split
from lit_digits.errors import LitDigitsError

CIFAR10_MEAN = (125.31 / 255, 122.95 / 255, 113.87 / 255)
"""Per-channel mean of the training images in [0, 1] (the DavidNet reference's figures)."""
CIFAR10_STD = (62.99 / 255, 62.09 / 255, 66.70 / 255)

_FOLDER = Path("cifar-10-batches-py")
_BATCHES = {True: [f"data_batch_{i}" for i in range(1, 6)], False: ["test_batch"]}


class CIFAR10DataModule(ImageDataModule):
    """CIFAR-10: 50,000 training and 10,000 test colour images, 3 x 32 x 32, 10 classes.

    An existing ``cifar-10-batches-py`` folder is read as it is, checking shapes, dtypes
    and labels rather than the download checksums (a re-pickled copy has other bytes).
    Defaults are DavidNet's augmentation: 4-pixel reflect pad-and-crop, flip, 8x8 cutout.
    See :class:`~lit_digits.data.datamodule.ImageDataModule` for the arguments.
    """

    classes = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
    image_shape = (3, 32, 32)
    train_size = 50_000
    mean = CIFAR10_MEAN
    std = CIFAR10_STD

    def __init__(
        self,
        data_dir: str = DEFAULT_DATA_DIR,
        batch_size: int = 512,
        *,
        crop_padding: int = 4,
        flip: bool | str = True,
        cutout_size: int = 8,
        **kwargs: Any,
    ) -> None:
        """CIFAR-10's defaults: DavidNet's batch, crop, flip and cutout; the rest are ImageDataModule's."""
        super().__init__(data_dir, batch_size, crop_padding=crop_padding, flip=flip, cutout_size=cutout_size, **kwargs)

    @property
    def expected_files(self) -> list[Path]:
        return [_FOLDER / name for names in _BATCHES.values() for name in names]

    def fetch_missing(self, missing: list[Path]) -> None:
        """Download CIFAR-10 into ``data_dir`` with torchvision (which verifies the archive).

        Raises:
            LitDigitsError: ``data_dir`` cannot be made or written, or the download failed (no network).
        """
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise LitDigitsError(
                f"cannot create data_dir {self.data_dir} ({err.strerror}); pass a writable --data.data_dir"
            ) from err
        if not os.access(self.data_dir, os.W_OK):
            raise LitDigitsError(f"data_dir {self.data_dir} is not writable; pass a writable --data.data_dir")
        try:
            torchvision.datasets.CIFAR10(self.data_dir, download=True)
        except (OSError, RuntimeError) as err:
            names = ", ".join(str(f) for f in missing)
            raise LitDigitsError(
                f"{names} missing in data_dir {self.data_dir}, and downloading them failed "
                f"({str(err).splitlines()[0].rstrip(':')}); "
                "put the files there (torchvision's layout) or connect to the internet"
            ) from err

    def read_split(self, train: bool) -> Split:
        parts = [read_batch(self.data_dir / _FOLDER / name) for name in _BATCHES[train]]
        images = np.concatenate([images for images, _ in parts])
        labels = np.concatenate([labels for _, labels in parts])
        return torch.from_numpy(images), torch.from_numpy(labels)


class _ArraysOnly(pickle.Unpickler):
    """Unpickles NumPy arrays and plain containers, nothing that could run code."""

    _ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("_codecs", "encode"),  # bytes in protocol-2 pickles written by Python 3
    }

    def find_class(self, module: str, name: str):
        module = module.replace("numpy.core", "numpy._core")
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"unexpected object {module}.{name}")
        return super().find_class(module, name)


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 batch pickle, checked (``checked_split``): images uint8 N x 3 x 32 x 32
    (``data``, N x 3072 in the file), labels int64 N in 0..9 (``labels``)."""
    fix = "delete it to download a fresh copy"
    data = path.read_bytes()
    try:
        batch = _ArraysOnly(io.BytesIO(data), encoding="latin1").load()
    except Exception as err:  # bytes that are no sound pickle make the unpickler raise anything (KeyError, ...)
        raise LitDigitsError(f"{path} is truncated or corrupt ({type(err).__name__}: {err}); {fix}") from err
    if not isinstance(batch, dict) or "data" not in batch or "labels" not in batch:
        raise LitDigitsError(f"{path} is not a CIFAR-10 batch (no 'data' and 'labels'); {fix}")
    return checked_split(str(path), batch["data"], batch["labels"], CIFAR10DataModule.image_shape, 10, fix)
