"""The shared LightningDataModule: in-memory uint8 splits, batched augmentation on the device."""

import math
import os
from abc import ABCMeta, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import torch
from lightning.pytorch import LightningDataModule, Trainer
from torch.utils.data import DataLoader

from lit_digits.checkpoints import CheckedCheckpoint, load_checked
from lit_digits.data.augment import flip as flip_where
from lit_digits.data.augment import random_colour_jitter, random_crop, random_cutout, random_flip
from lit_digits.data.image_files import ImageFiles, ImageReader
from lit_digits.data.in_memory import InMemoryImages, keep_batch
from lit_digits.errors import LitDigitsError

DEFAULT_DATA_DIR = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "lit_digits")
"""Where the data sets live unless ``data_dir`` says otherwise: ``$XDG_CACHE_HOME/lit_digits``."""

Split = tuple[torch.Tensor, torch.Tensor]


class ImageDataModule(LightningDataModule, metaclass=ABCMeta):
    """A torchvision-layout image data set decoded once into memory.

    Batches leave the loader as ``(uint8 images, int64 labels)``; ``on_after_batch_transfer``
    turns the images into float32 in [0, 1] on the accelerator and, for training batches
    only, applies the enabled augmentations to the whole batch at once.

    Args:
        data_dir: folder holding the data set in torchvision's layout. Without it, CIFAR-10 is
            downloaded there, and MNIST read from the copy shipped with lit_digits.
        batch_size: images per batch (per device); training drops the last partial batch.
        val_size: images held out of the training split for validation; 0 validates on the
            test split, as the published recipes report.
        crop_padding: random pad-and-crop by up to this many pixels; 0 turns it off.
        padding_mode: how the border is padded before cropping: ``reflect``, ``constant``,
            ``replicate`` or ``circular``.
        flip: ``true`` mirrors each training image left-right with probability 1/2 at every
            step; ``alternating`` is airbench's alternating flip: a side is drawn for each image
            once, when the data is read (mirrored or not, 1/2 each), each image is shown on its
            side in even epochs and on the other in odd ones, so each one is seen both ways in
            every two epochs (the same draw for a run and for its resumption: seeded by the
            run's seed). The draw travels with each batch, as a third tensor.
        cutout_size: fill one random square of this side per training image with the data
            set's mean colour; 0 turns it off.
        brightness, contrast: colour jitter of each training image, after the crop and flips, as
            hiverge's record recipe makes it: a brightness shift uniform in +-``brightness`` and a
            contrast scale uniform in 1 +- ``contrast``, both of the image normalized by the data
            set's ``mean`` and ``std`` (``augment.colour_jitter``); 0 turns each off.
        predict_path: an image file, a folder of images or a glob, for ``predict``.
    """

    classes: tuple[str, ...]
    image_shape: tuple[int, int, int]
    mean: tuple[float, ...]
    """Per-channel mean in [0, 1], the fill colour of cutout."""
    std: tuple[float, ...]
    """Per-channel standard deviation in [0, 1], the unit of the colour jitter."""
    train_size: int
    """Images in the published training split."""
    mnist_digits = False
    """Whether the images are handwritten digits made as MNIST's were, as image files are then read."""

    def __init__(
        self,
        data_dir: str = DEFAULT_DATA_DIR,
        batch_size: int = 256,
        val_size: int = 0,
        crop_padding: int = 0,
        padding_mode: str = "reflect",
        flip: bool | str = False,
        cutout_size: int = 0,
        predict_path: str | None = None,
        brightness: float = 0.0,
        contrast: float = 0.0,
    ) -> None:
        super().__init__()
        if flip not in (True, False, "alternating"):
            raise LitDigitsError(f"flip must be true, false or alternating, got {flip!r}")
        if batch_size < 1:
            raise LitDigitsError(f"batch_size must be at least 1, got {batch_size}")
        if padding_mode not in ("reflect", "constant", "replicate", "circular"):
            raise LitDigitsError(f"padding_mode must be reflect, constant, replicate or circular, got {padding_mode!r}")
        if crop_padding < 0 or cutout_size < 0 or val_size < 0 or brightness < 0 or not 0 <= contrast < 1:
            raise LitDigitsError("crop_padding, cutout_size, val_size and brightness must not be negative, and "
                                 f"contrast must be in [0, 1); got {crop_padding}, {cutout_size}, {val_size}, "
                                 f"{brightness} and {contrast}")  # fmt: skip
        side = min(self.image_shape[1:])
        if crop_padding >= side or cutout_size > side:
            raise LitDigitsError(
                f"crop_padding must be smaller than the images' side ({side}) and cutout_size at most it; "
                f"got {crop_padding} and {cutout_size}"
            )
        data_dir = str(data_dir)  # a Path would make checkpoints need weights_only=False to load
        self.save_hyperparameters()
        self.data_dir = Path(data_dir).expanduser()
        self.batch_size = batch_size
        self.val_size = val_size
        self.crop_padding = crop_padding
        self.padding_mode = padding_mode
        self.flip = flip
        self.cutout_size = cutout_size
        self.brightness, self.contrast = brightness, contrast
        self.predict_path = predict_path
        self._splits: dict[str, Split] = {}
        self._mirrored: torch.Tensor | None = None  # each training image's drawn side (alternating flip)
        self.predict_files: ImageFiles | None = None

    @classmethod
    def load_from_checkpoint(
        cls, checkpoint_path: Path | str | IO[bytes], trusted_modules: Iterable[str] = (), **kwargs: Any
    ) -> "ImageDataModule":
        """The data module a checkpoint names (a subclass of this one), with its saved arguments,
        built only once every class it names passes ``lit_digits.checkpoints``' rules (see
        ``ImageClassifier.load_from_checkpoint``). ``kwargs`` override the saved arguments."""
        checked = CheckedCheckpoint.read(checkpoint_path, trusted_modules)
        return load_checked(super(ImageDataModule, checked.data_class(cls)).load_from_checkpoint, checked, **kwargs)

    def check_channels(self, in_channels: int, model: str) -> None:
        """Raise ``LitDigitsError`` unless this data set's images have ``in_channels`` channels, as ``model`` takes."""
        channels, height, width = self.image_shape
        if channels != in_channels:
            raise LitDigitsError(
                f"{model} takes {in_channels}-channel images but {type(self).__name__} gives {channels}-channel "
                f"{height}x{width} ones; pick a model (or a checkpoint) made for this data set"
            )

    @property
    def image_reader(self) -> ImageReader:
        """How ``predict``, ``serve`` and ``demo`` read an image file for this data set's model."""
        return ImageReader(self.image_shape, self.mnist_digits)

    def steps_per_epoch(self, trainer: Trainer) -> int:
        """The optimizer steps of one training epoch of ``trainer``: the training images (those
        ``setup("fit")`` read, else the published split less ``val_size``, without reading it),
        shared among the trainer's processes as Lightning's distributed sampler shares them, in
        whole batches, cut to ``limit_train_batches``, one step per ``accumulate_grad_batches``
        batches (and one for an epoch's last, partial accumulation, as Lightning steps it).
        The number the learning-rate schedules are given, in a fit and in ``report --config``."""
        images = len(self._splits["train"][1]) if "train" in self._splits else self.train_size - self.val_size
        batches = math.ceil(images / (trainer.num_devices * trainer.num_nodes)) // self.batch_size
        limit = trainer.limit_train_batches
        batches = min(batches, limit) if isinstance(limit, int) else int(batches * limit)
        return max(1, math.ceil(batches / trainer.accumulate_grad_batches))

    def examples_per_step(self, trainer: Trainer) -> int:
        """The training examples of one optimizer step: a batch on each process, for each
        accumulated batch (the mean loss of a step is theirs)."""
        return self.batch_size * trainer.num_devices * trainer.num_nodes * trainer.accumulate_grad_batches

    def training_images(self, count: int) -> torch.Tensor:
        """The first ``count`` images of the training split as floats in [0, 1], as read, before
        any augmentation (after ``setup("fit")``): what a network's data-fitted layers learn from."""
        if "train" not in self._splits:
            raise LitDigitsError("the training images are read by setup('fit'); call it first")
        return self._splits["train"][0][:count].float() / 255

    # --- what a data set defines -------------------------------------------------------
    @property
    @abstractmethod
    def expected_files(self) -> list[Path]:
        """The files this data set reads, relative to ``data_dir``."""

    @abstractmethod
    def fetch_missing(self, missing: list[Path]) -> None:
        """Make the data set readable although ``missing`` (some of ``expected_files``) are not in
        ``data_dir``: CIFAR-10 downloads them, MNIST reads the copy shipped with lit_digits."""

    @abstractmethod
    def read_split(self, train: bool) -> Split:
        """Decode the training or test split, checking what was read."""

    def missing_files(self) -> list[Path]:
        """The ``expected_files`` that ``data_dir`` lacks."""
        return [f for f in self.expected_files if not (self.data_dir / f).is_file()]

    def readable_offline(self) -> bool:
        """Whether the data set can be read without a download (a whole copy in ``data_dir``)."""
        return not self.missing_files()

    # --- Lightning hooks -----------------------------------------------------------------
    def prepare_data(self) -> None:
        """Use an existing copy in ``data_dir`` as it is; else ``fetch_missing``.

        ``predict`` reads only the user's images, so it needs no data set.
        """
        if self.trainer is not None and self.trainer.predicting:
            return
        missing = self.missing_files()
        if missing:
            self.fetch_missing(missing)

    def setup(self, stage: str) -> None:
        if stage in ("fit", "validate"):
            self._load_train_and_val()
            training = len(self._splits["train"][1])
            if stage == "fit" and training < self.batch_size:
                raise LitDigitsError(
                    f"batch_size {self.batch_size} is larger than the {training} training images, so an epoch "
                    "would have no (whole) batch; pass a smaller --data.batch_size"
                )
        if stage == "test":
            self._load("test", train=False)
        if stage == "predict":
            if self.predict_path is None:
                raise LitDigitsError("predict needs images: pass --data.predict_path FILE, FOLDER or GLOB")
            self.predict_files = ImageFiles.load(self.predict_path, self.image_reader)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        assert self.predict_files is not None, "setup('predict') loads the files"
        dataset = InMemoryImages(self.predict_files.images, torch.arange(len(self.predict_files.paths)))
        return DataLoader(dataset, batch_size=self.batch_size, collate_fn=keep_batch)

    def on_after_batch_transfer(self, batch: tuple[torch.Tensor, ...], dataloader_idx: int) -> Split:
        images, labels, *mirrored = batch
        x = images.float() / 255
        if self.trainer is not None and self.trainer.training:
            x = self.augment(x, self.trainer.current_epoch, *mirrored)
        return x, labels

    def augment(self, x: torch.Tensor, epoch: int = 0, mirrored: torch.Tensor | None = None) -> torch.Tensor:
        """The enabled training augmentations, on a float batch in [0, 1] of epoch ``epoch``;
        ``mirrored``: the alternating flip's drawn side of each image, which training batches carry."""
        if self.flip == "alternating":  # each image on its drawn side first, as if it had been read so
            assert mirrored is not None, "training batches carry the drawn sides under the alternating flip"
            x = flip_where(x, mirrored.to(x.device))
        if self.crop_padding:
            x = random_crop(x, self.crop_padding, self.padding_mode)
        if self.flip is True:
            x = random_flip(x)
        elif self.flip == "alternating":  # the whole batch in odd epochs; the parity as data: one XLA graph
            x = torch.where(torch.full((), epoch % 2, dtype=torch.bool, device=x.device), x.flip(-1), x)
        if self.brightness or self.contrast:
            mean, std = torch.tensor(self.mean, device=x.device), torch.tensor(self.std, device=x.device)
            x = random_colour_jitter(x, self.brightness, self.contrast, mean, std)
        if self.cutout_size:
            x = random_cutout(x, self.cutout_size, torch.tensor(self.mean, device=x.device))
        return x

    # --- helpers ---------------------------------------------------------------------------
    def _load(self, name: str, train: bool) -> Split:
        if name not in self._splits:
            self._splits[name] = self.read_split(train)
        return self._splits[name]

    def _load_train_and_val(self) -> None:
        if "train" in self._splits:
            return
        images, labels = self.read_split(train=True)
        if self.val_size == 0:
            self._splits["val"] = self._load("test", train=False)
        elif self.val_size >= len(labels):
            raise LitDigitsError(f"val_size {self.val_size} must be smaller than the {len(labels)} training images")
        else:
            order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
            held_out, kept = order[: self.val_size], order[self.val_size :]
            self._splits["val"] = images[held_out], labels[held_out]
            images, labels = images[kept], labels[kept]
        if self.flip == "alternating":
            draw = torch.Generator().manual_seed(torch.initial_seed())
            self._mirrored = torch.rand(len(labels), generator=draw) < 0.5
        self._splits["train"] = images, labels

    def _loader(self, name: str, shuffle: bool) -> DataLoader:
        drawn = (self._mirrored,) if name == "train" and self._mirrored is not None else ()
        return DataLoader(
            InMemoryImages(*self._splits[name], *drawn),
            batch_size=self.batch_size,
            shuffle=shuffle,
            drop_last=shuffle,
            collate_fn=keep_batch,
        )
