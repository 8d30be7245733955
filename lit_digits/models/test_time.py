"""Test-time augmentation: a network's logits averaged over mirrored and shifted views of each image."""

import torch
import torch.nn.functional as F
from torch import nn


def averaged_views(net: nn.Module, x: torch.Tensor, flip: bool, translate: bool) -> torch.Tensor:
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
