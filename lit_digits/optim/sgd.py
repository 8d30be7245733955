"""SGD in the form of Page's cifar10-fast reference: the learning rate applied before momentum."""

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch.optim import Optimizer

from lit_digits.errors import LitDigitsError
from lit_digits.optim.stepping import loss_of, with_gradients


class LrBeforeMomentumSGD(Optimizer):
    """SGD with (Nesterov) momentum whose velocity accumulates steps already scaled by the rate.

    Page's ``torch_backend.py``: ``d = -lr (g + weight_decay w)``, ``v = momentum v + d``,
    then ``w += d + momentum v`` (Nesterov) or ``w += v``. ``torch.optim.SGD`` accumulates
    the unscaled gradient and multiplies the velocity by the *current* rate, so with a
    constant rate the two are the same, and with a rate that changes every step the past
    steps in the velocity keep their own rate here (benchmarks/sgd_forms.py measures the
    difference for the recipes' schedules).
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 0.01,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        nesterov: bool = True,
    ) -> None:
        if lr < 0 or not 0 <= momentum < 1 or weight_decay < 0:
            raise LitDigitsError(
                f"need lr >= 0, momentum in [0, 1), weight_decay >= 0; got {lr}, {momentum}, {weight_decay}"
            )
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, "nesterov": nesterov})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = loss_of(closure)
        for group, p, state in with_gradients(self):
            d = p.grad.add(p, alpha=group["weight_decay"]).mul_(-group["lr"])
            if "velocity" not in state:
                state["velocity"] = torch.zeros_like(p)
            velocity = state["velocity"].mul_(group["momentum"]).add_(d)
            p.add_(d.add_(velocity, alpha=group["momentum"]) if group["nesterov"] else velocity)
        return loss
