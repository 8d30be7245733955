"""What the package's optimizers' ``step`` share: the closure's loss, and the parameters to update."""

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.optim import Optimizer


def loss_of(closure: Callable[[], float] | None) -> float | None:
    """The loss ``closure`` returns, computed with gradients on (``step`` runs without); None without one."""
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


def with_gradients(optimizer: Optimizer) -> Iterator[tuple[dict[str, Any], torch.Tensor, dict[str, Any]]]:
    """(parameter group, parameter, its state) for each of ``optimizer``'s parameters that has a gradient."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            if p.grad is not None:
                yield group, p, optimizer.state[p]
