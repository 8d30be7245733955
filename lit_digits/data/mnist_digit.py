"""An image of a handwritten digit made the way MNIST's were (LeCun, Cortes and Burges): light strokes on a
dark ground, cropped to the ink, scaled to fit a 20 x 20 box (aspect kept, anti-aliased) and centred by its
centre of mass in 28 x 28. So a digit drawn on a page, photographed on white paper or taken from MNIST
itself reaches the model as the digits it learned from did."""

import torch
from torchvision.transforms.v2 import functional as TF

SIDE, BOX = 28, 20
"""MNIST's image side, and the side of the box its digits were scaled into."""
INK = 0.2
"""The share of the image's contrast above its background from which a pixel counts as ink; fainter
pixels (paper texture, shadows, JPEG noise) become background."""
MIN_CONTRAST = 0.1
"""Less contrast than this between the brightest pixel and the background (of 1): no digit, a blank image."""


def as_mnist_digit(grey: torch.Tensor) -> torch.Tensor:
    """uint8 1 x H x W of any size (grey levels) to uint8 1 x 28 x 28 as MNIST was made.

    The background is the median of the image's border: a light one (paper) is inverted to dark. The
    contrast is stretched so the ink's brightest pixel is 255 and the background 0. An image with less
    contrast than ``MIN_CONTRAST`` holds no digit and comes back black."""
    x = grey[0].float() / 255
    background = border_median(x)
    if background > 0.5:
        x, background = 1 - x, 1 - background
    contrast = x.max() - background
    digit = torch.zeros(SIDE, SIDE)
    if contrast >= MIN_CONTRAST:
        x = ((x - background) / contrast).clamp(0, 1)
        x = torch.where(x < INK, 0.0, x)
        rows, cols = x.any(dim=1).nonzero()[:, 0], x.any(dim=0).nonzero()[:, 0]
        ink = x[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        scale = BOX / max(ink.shape)
        size = [max(1, round(side * scale)) for side in ink.shape]
        small = TF.resize(ink[None], size, antialias=True)[0].clamp(0, 1)
        place(small, digit)
    return (digit * 255).round().to(torch.uint8)[None]


def border_median(x: torch.Tensor) -> torch.Tensor:
    """The median grey level of the outermost rows and columns of H x W ``x``."""
    return torch.cat([x[0], x[-1], x[:, 0], x[:, -1]]).median()


def place(patch: torch.Tensor, canvas: torch.Tensor) -> None:
    """Put ``patch`` (at most ``BOX`` a side) into ``canvas`` so that its centre of mass falls, to the
    nearest pixel, on pixel (14, 14), as in MNIST (where it averages 13.99 and 14.01 over the test split)."""
    mass = patch.sum()
    centre_row = float((patch.sum(dim=1) * torch.arange(patch.shape[0])).sum() / mass)
    centre_col = float((patch.sum(dim=0) * torch.arange(patch.shape[1])).sum() / mass)
    top = min(max(round(SIDE // 2 - centre_row), 0), SIDE - patch.shape[0])
    left = min(max(round(SIDE // 2 - centre_col), 0), SIDE - patch.shape[1])
    canvas[top : top + patch.shape[0], left : left + patch.shape[1]] = patch
