"""An exponential moving average of a network's weights."""

import torch
from torch import nn


@torch.no_grad()
def update_average(average: nn.Module, current: nn.Module, weight: float | torch.Tensor) -> None:
    """Move every floating-point tensor of ``average``'s state (weights and BatchNorm
    statistics alike) ``weight`` of the way towards ``current``'s: ``a += weight * (c - a)``.

    ``weight`` may be a tensor on the device (a 0-d one): tensor operations only, so the
    update waits for nothing and, on XLA, joins the next step's graph.
    """
    for a, c in zip(average.state_dict().values(), current.state_dict().values(), strict=True):
        if a.is_floating_point():
            a.lerp_(c, weight.to(a.dtype) if isinstance(weight, torch.Tensor) else weight)
