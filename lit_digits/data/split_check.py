"""The checks every data set reader makes of what it decoded, before it is trusted."""

import math
from typing import Any

import numpy as np

from lit_digits.errors import LitDigitsError


def checked_split(
    source: str, images: Any, labels: Any, image_shape: tuple[int, int, int], classes: int, fix: str
) -> tuple[np.ndarray, np.ndarray]:
    """``images`` as uint8 N x C x H x W and ``labels`` as int64 N, once they are what a data set
    file must hold: at least one image, uint8 pixels of ``image_shape`` (flat or not), as many
    labels as images, each an integer in 0..classes-1.

    Raises:
        LitDigitsError: naming ``source`` (the files read), what was wrong with them, and ``fix``,
            what to do about it.
    """
    shape = " x ".join(map(str, image_shape))
    if (
        not isinstance(images, np.ndarray)
        or images.dtype != np.uint8
        or images.ndim < 2
        or math.prod(images.shape[1:]) != math.prod(image_shape)
    ):
        raise LitDigitsError(f"{source}: images should be uint8 N x {shape}, got {_describe(images)}; {fix}")
    if not len(images):
        raise LitDigitsError(f"{source} holds no images; {fix}")
    try:
        labels = np.asarray(labels)
    except (ValueError, TypeError):  # a ragged or otherwise non-array object
        labels = np.asarray(None)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise LitDigitsError(f"{source}: labels should be integers, got {_describe(labels)}; {fix}")
    if len(labels) != len(images):
        raise LitDigitsError(f"{source}: {len(images)} images but {len(labels)} labels; {fix}")
    if labels.min() < 0 or labels.max() >= classes:
        raise LitDigitsError(
            f"{source}: labels should be in 0..{classes - 1}, got {labels.min()}..{labels.max()}; {fix}"
        )
    return images.reshape(-1, *image_shape), labels.astype(np.int64)


def _describe(array: Any) -> str:
    if not isinstance(array, np.ndarray):
        return type(array).__name__
    first = f", such as {array.reshape(-1)[:1].tolist()[0]!r}" if array.size else ""
    return f"{array.dtype.name} of shape {' x '.join(map(str, array.shape)) or '()'}{first}"
