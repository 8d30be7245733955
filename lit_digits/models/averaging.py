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


def blend_every(average: nn.Module, current: nn.Module, steps: torch.Tensor, decay: float, every: int) -> None:
    """Count a step in ``steps`` (a 0-d tensor on the device) and, every ``every`` steps, blend
    ``current`` into ``average`` by ``1 - decay ** every``; the other steps blend by 0, so that every
    step runs the same graph."""
    steps += 1
    due = steps % every == 0
    update_average(average, current, due * (1 - decay**every))
