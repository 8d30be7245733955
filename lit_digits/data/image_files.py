"""Image files (PNG, JPEG, GIF, WebP, BMP, TIFF) from a path, folder or glob, read with Pillow and converted
to a model's input."""

import io
import logging
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image
from torchvision.transforms.v2 import functional as TF

from lit_digits.data.mnist_digit import as_mnist_digit
from lit_digits.errors import LitDigitsError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
GLOB_CHARACTERS = re.compile(r"[*?[]")
UNREADABLE = (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error, Image.DecompressionBombError)
"""What Pillow raises on a file that is not an image, is malformed or truncated, or is too large."""


@dataclass(frozen=True)
class ImageReader:
    """How a data module's model takes an image file: as uint8 of ``shape`` (C, H, W), and, with
    ``mnist_digits``, made the way MNIST's digits were (``as_mnist_digit``: polarity, crop, 20 x 20, centre
    of mass) rather than resized whole."""

    shape: tuple[int, int, int]
    mnist_digits: bool = False

    def __call__(self, source: Path | bytes | BinaryIO) -> torch.Tensor:
        """Decode one image (its first frame) from a file, its bytes or a binary file object."""
        if not self.mnist_digits:
            return read_image(source, self.shape)
        pixels, notes = decode_image(source, channels=1)
        note(source, notes)
        return as_mnist_digit(pixels)


@dataclass
class ImageFiles:
    """Readable images stacked as uint8 N x C x H x W, with the path of each."""

    paths: list[Path]
    images: torch.Tensor

    @classmethod
    def load(cls, pattern: str, reader: ImageReader) -> "ImageFiles":
        """Read every image ``pattern`` names with ``reader``.

        Images of another size, mode or bit depth are converted with a note; unreadable
        files are reported and skipped; no readable image at all is an error.
        """
        paths, images = [], []
        for path in find_images(pattern):
            try:
                images.append(reader(path))
                paths.append(path)
            except UNREADABLE as err:
                log.warning("skipped %s: not a readable image (%s)", path, why_unreadable(err))
        if not images:
            raise LitDigitsError(f"no readable image in {pattern!r}; give a PNG or JPEG file, a folder or a glob")
        return cls(paths, torch.stack(images))


def find_images(pattern: str) -> list[Path]:
    """The files a path names: the file itself, a folder's image files, or a glob's matches.

    A glob's ``**`` does not descend into symlinked folders, so a link loop cannot hang it.
    """
    path = Path(pattern).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    parts = path.parts
    first_glob = next((i for i, part in enumerate(parts) if GLOB_CHARACTERS.search(part)), None)
    if first_glob is None:
        return []
    folder, glob = Path(*parts[:first_glob]), str(Path(*parts[first_glob:]))
    return sorted(p for p in folder.glob(glob) if p.is_file())


def read_image(source: Path | bytes | BinaryIO, shape: tuple[int, int, int]) -> torch.Tensor:
    """Decode one image (its first frame) from a file, its bytes or a binary file object to uint8 of
    ``shape`` (C, H, W), noting each conversion made."""
    channels, height, width = shape
    pixels, notes = decode_image(source, channels)
    if pixels.shape[1:] != (height, width):
        notes.append(f"resized {pixels.shape[2]}x{pixels.shape[1]} -> {width}x{height}")
        pixels = TF.resize(pixels, [height, width], antialias=True).contiguous()
    note(source, notes)
    return pixels


def decode_image(source: Path | bytes | BinaryIO, channels: int) -> tuple[torch.Tensor, list[str]]:
    """One image (its first frame) as uint8 ``channels`` x H x W at its own size, and the conversions made."""
    target = "L" if channels == 1 else "RGB"
    notes = []
    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
        if getattr(image, "n_frames", 1) > 1:
            notes.append(f"first of {image.n_frames} frames")
        if image.mode != target:
            transparent = "A" in image.mode or "transparency" in image.info
            notes.append(f"{image.mode} -> {target}" + (", transparency dropped" if transparent else ""))
        pixels = TF.pil_to_tensor(converted(image, target))
    return pixels.contiguous(), notes


def note(source: Path | bytes | BinaryIO, notes: list[str]) -> None:
    """Log the conversions made to an image, if any, in one line that names it."""
    if notes:
        log.info("%s: %s", source if isinstance(source, Path) else getattr(source, "name", "image"), ", ".join(notes))


def why_unreadable(err: BaseException) -> str:
    """What Pillow said about a file it could not read (one of ``UNREADABLE``), in one line."""
    return (str(err) or type(err).__name__).splitlines()[0]


def converted(image: Image.Image, mode: str) -> Image.Image:
    """``image`` in Pillow's ``mode`` ("L" or "RGB"). 16- and 32-bit grey levels are scaled to
    8 bits, where Pillow's own conversion would clip them at 255."""
    if image.mode.startswith("I"):
        levels = np.asarray(image, dtype=np.float32).clip(0, 65535) / 257
        image = Image.fromarray(levels.round().astype(np.uint8))
    elif image.mode in ("P", "PA"):
        image = image.convert("RGBA")  # the palette's colours (and transparency, dropped next)
    return image.convert(mode)
