"""Image files (PNG, JPEG, ...) from a path, folder or glob, converted to a model's input."""

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision.io import ImageReadMode, decode_image
from torchvision.transforms.v2 import functional as TF

from lit_digits.errors import LitDigitsError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
GLOB_CHARACTERS = re.compile(r"[*?[]")


@dataclass
class ImageFiles:
    """Readable images stacked as uint8 N x C x H x W, with the path of each."""

    paths: list[Path]
    images: torch.Tensor

    @classmethod
    def load(cls, pattern: str, shape: tuple[int, int, int]) -> "ImageFiles":
        """Read every image ``pattern`` names, converted to ``shape`` (C, H, W).

        Images of another size, mode or bit depth are converted with a note; unreadable
        files are reported and skipped; no readable image at all is an error.
        """
        paths, images = [], []
        for path in find_images(pattern):
            try:
                images.append(read_image(path, shape))
                paths.append(path)
            except (RuntimeError, OSError, ValueError) as err:
                log.warning("skipped %s: not a readable image (%s)", path, str(err).splitlines()[0])
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


def read_image(path: Path, shape: tuple[int, int, int]) -> torch.Tensor:
    """Decode one image to uint8 of ``shape`` (C, H, W), noting each conversion made."""
    channels, height, width = shape
    image = decode_image(str(path), mode=ImageReadMode.UNCHANGED)
    notes = []
    if image.ndim == 4:
        notes.append(f"first of {len(image)} frames")
        image = image[0]
    if image.dtype != torch.uint8:
        notes.append(f"{image.dtype} -> uint8")
        image = TF.to_dtype(image, torch.uint8, scale=True)
    if image.shape[0] in (2, 4):
        notes.append("alpha channel dropped")
        image = image[:-1]
    if image.shape[0] != channels:
        notes.append("RGB -> grayscale" if channels == 1 else "grayscale -> RGB")
        image = TF.rgb_to_grayscale(image) if channels == 1 else image.expand(3, -1, -1)
    if image.shape[1:] != (height, width):
        notes.append(f"resized {image.shape[2]}x{image.shape[1]} -> {width}x{height}")
        image = TF.resize(image, [height, width], antialias=True)
    if notes:
        log.info("%s: %s", path, ", ".join(notes))
    return image.contiguous()
