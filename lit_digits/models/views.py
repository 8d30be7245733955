"""Test-time views: a network's logits averaged over mirrored and shifted views of each image, for every
image (``AveragedViews``) or only where the network is unsure (``SelectiveViews``)."""

import torch
import torch.nn.functional as F
from torch import nn

from lit_digits.errors import LitDigitsError
from lit_digits.technique import Logits, Technique


def shifted(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``x`` shifted one pixel up-left and one down-right, of the reflect-padded batch."""
    h, w = x.shape[-2:]
    padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
    return padded[..., :h, :w], padded[..., 2:, 2:]


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
    up_left, down_right = shifted(x)
    return (logits + (mirrored(up_left) + mirrored(down_right)) / 2) / 2


class AveragedViews(Technique):
    """Test-time views: validate, test and predict with the logits of each image averaged over its
    mirror image (``flip``, as Page's reference) and, with ``translate``, over the one-pixel
    shifts too (airbench's six views with both). Training sees each image once."""

    def __init__(self, flip: bool = True, translate: bool = False) -> None:
        self.flip, self.translate = flip, translate

    def evaluate(self, net: Logits, x: torch.Tensor) -> torch.Tensor:
        return averaged_views(net, x, self.flip, self.translate)


def six_views(net: nn.Module | Logits, x: torch.Tensor) -> torch.Tensor:
    """``net``'s logits for ``x``, the mean over six views of each image, weighted alike: the image, its
    one-pixel shifts up-left and down-right (of the reflect-padded batch), and the mirror images of
    the three; one run of ``net`` on them all."""
    views = torch.cat([x, *shifted(x)])
    return net(torch.cat([views, views.flip(-1)])).view(6, len(x), -1).mean(dim=0)


class SelectiveViews(Technique):
    """Test-time views only where the network is unsure (hiverge/cifar10-speedrun): each image is
    evaluated once, and the ``fraction`` of a batch with the lowest top class probability is
    evaluated again over ``six_views``, whose mean logits replace its own. The unsure images are
    chosen in each evaluation batch (the reference chooses them over the whole test set), on the
    device: nothing waits for the host."""

    def __init__(self, fraction: float = 0.2) -> None:
        if not 0 < fraction <= 1:
            raise LitDigitsError(f"SelectiveViews' fraction must be in (0, 1], got {fraction}")
        self.fraction = fraction

    def evaluate(self, net: Logits, x: torch.Tensor) -> torch.Tensor:
        logits = net(x)
        unsure = int(len(x) * self.fraction)  # the batch's size: known on the host
        if unsure == 0:
            return logits
        confidence = logits.float().softmax(dim=-1).amax(dim=-1)
        chosen = confidence.topk(unsure, largest=False, sorted=False).indices
        # index_put, not index_copy: torch-xla 2.9 aborts on index_copy ("Check failed: buffer != nullptr")
        return logits.index_put((chosen,), six_views(net, x[chosen]).to(logits.dtype))
