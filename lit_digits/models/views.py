"""Test-time views: a network's logits averaged over mirrored and shifted views of each image."""

import torch
import torch.nn.functional as F
from torch import nn

from lit_digits.technique import Logits, Technique


def averaged_views(net: nn.Module | Logits, x: torch.Tensor, flip: bool, translate: bool) -> torch.Tensor:
    """``net``'s logits for ``x``, averaged over its mirror image (``flip``) and over one-pixel shifts
    up-left and down-right of the reflect-padded batch (``translate``), weighted as airbench does:
    the unshifted view(s) 1/2, each shifted one 1/4."""

    def mirrored(views: torch.Tensor) -> torch.Tensor:
        logits = net(views)
        return (logits + net(views.flip(-1))) / 2 if flip else logits

    logits = mirrored(x)
    if not translate:
        return logits
    h, w = x.shape[-2:]
    padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
    shifted = (mirrored(padded[..., :h, :w]) + mirrored(padded[..., 2:, 2:])) / 2
    return (logits + shifted) / 2


class AveragedViews(Technique):
    """Test-time views: validate, test and predict with the logits of each image averaged over its
    mirror image (``flip``, as Page's reference) and, with ``translate``, over the one-pixel
    shifts too (airbench's six views with both). Training sees each image once."""

    def __init__(self, flip: bool = True, translate: bool = False) -> None:
        self.flip, self.translate = flip, translate

    def evaluate(self, net: Logits, x: torch.Tensor) -> torch.Tensor:
        return averaged_views(net, x, self.flip, self.translate)
