"""An exponential moving average of a network's weights."""

import copy
from typing import Any

import torch
from torch import nn

from lit_digits.errors import LitDigitsError
from lit_digits.technique import Technique


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


class WeightAverage(Technique):
    """Keep an exponential moving average of the network's weights and BatchNorm statistics, and
    validate, test and predict with it (Page's bag of tricks: ``decay`` 0.99, every 5 steps).

    Args:
        decay: per step.
        every_n_steps: blend the network in every this many steps, by ``1 - decay ** every_n_steps``.

    Checkpoint keys: ``ema_net.*`` (the average) and ``ema_steps`` (the steps counted, on the device,
    so that every step runs the same graph).
    """

    def __init__(self, decay: float = 0.99, every_n_steps: int = 1) -> None:
        if not 0 < decay < 1 or every_n_steps < 1:
            raise LitDigitsError(
                "WeightAverage needs a decay in (0, 1) and every_n_steps >= 1 (model.ema_decay and "
                f"model.ema_every_n_steps in older configs), got {decay} and {every_n_steps}"
            )
        self.decay, self.every_n_steps = decay, every_n_steps

    def attach(self, model: Any) -> None:
        model.ema_net = copy.deepcopy(model.net).requires_grad_(False)
        model.register_buffer("ema_steps", torch.zeros((), dtype=torch.int64))

    def before_training_step(self, model: Any) -> None:
        blend_every(model.ema_net, model.net, model.ema_steps, self.decay, self.every_n_steps)

    def evaluation_net(self, model: Any, net: nn.Module) -> nn.Module:
        return model.ema_net
