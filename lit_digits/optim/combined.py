"""Several optimizers stepped as one, so that Lightning's automatic optimization can drive them."""

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.optim import Optimizer

from lit_digits.optim.stepping import loss_of


class CombinedOptimizer(Optimizer):
    """Steps each of ``optimizers`` (over disjoint parameters) once per step, after one closure call.

    Its ``param_groups`` are the optimizers' own group dicts, in order, so a learning-rate
    scheduler, ``zero_grad`` and Lightning see every group; its state dict holds each
    optimizer's. Lightning's automatic optimization takes one optimizer: this is how a recipe
    trains its convolution filters with Muon and the rest with SGD.
    """

    def __init__(self, optimizers: Sequence[Optimizer]) -> None:
        self.optimizers = list(optimizers)
        super().__init__([group for optimizer in self.optimizers for group in optimizer.param_groups], {})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = loss_of(closure)
        for optimizer in self.optimizers:
            optimizer.step()
        return loss

    def state_dict(self) -> dict[str, Any]:
        return {"optimizers": [optimizer.state_dict() for optimizer in self.optimizers]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        states = state_dict["optimizers"]
        if len(states) != len(self.optimizers):
            raise ValueError(f"the state holds {len(states)} optimizers, this one combines {len(self.optimizers)}")
        for optimizer, state in zip(self.optimizers, states):
            optimizer.load_state_dict(state)
        self.param_groups = [group for optimizer in self.optimizers for group in optimizer.param_groups]  # new dicts

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(type(o).__name__ for o in self.optimizers)})"
