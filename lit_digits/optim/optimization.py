"""A recipe's optimization as one value: what trains which parameters, at which rates."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from lit_digits.errors import LitDigitsError
from lit_digits.optim.groups import ParamGroup, as_param_group, check_groups, make_optimizer
from lit_digits.optim.summed_loss import SummedLoss, as_summed_loss
from lit_digits.schedules import Constant, LRSchedule
from lit_digits.spec import build, factory, spec

NamedParameters = Sequence[tuple[str, nn.Parameter]]
ADAM, CONSTANT_LR = spec(torch.optim.Adam), spec(Constant)
"""The optimizer and schedule of a recipe that names none: Adam at a constant rate."""


@dataclass
class Optimization:
    """``make_optimizer`` trains the parameters no group takes at ``lr_schedule``'s rate (those named
    ``*bias`` at ``bias_lr_factor`` times it); ``param_groups`` have settings of their own; with
    ``summed_loss``, the rates and weight decay are a summed-loss reference's (``make_optimizer`` in
    ``optim/groups.py`` puts it together)."""

    make_optimizer: Callable[..., Optimizer]
    lr_schedule: LRSchedule
    param_groups: list[ParamGroup] = field(default_factory=list)
    bias_lr_factor: float = 1.0
    summed_loss: SummedLoss | None = None

    @classmethod
    def of(cls, optimizer: Any, lr_schedule: Any, param_groups: Sequence[Any], bias_lr_factor: float,
           summed_loss: Any, parameters: NamedParameters) -> "Optimization":  # fmt: skip
        """Built from a recipe's arguments (specs or objects), its groups checked against ``parameters``."""
        if bias_lr_factor <= 0:
            raise LitDigitsError(f"bias_lr_factor must be > 0, got {bias_lr_factor}")
        groups = [as_param_group(group) for group in param_groups]
        check_groups(parameters, groups)
        return cls(factory(optimizer), build(lr_schedule), groups, bias_lr_factor, as_summed_loss(summed_loss))

    def build(self, parameters: NamedParameters, steps_per_epoch: int, epochs: int,
              examples_per_step: int | None = None) -> tuple[Optimizer, LambdaLR]:  # fmt: skip
        """The optimizer over ``parameters`` and its per-step scheduler, for ``epochs`` of ``steps_per_epoch``."""
        return make_optimizer(parameters, self.param_groups, self.make_optimizer, self.lr_schedule, steps_per_epoch,
                              epochs, self.bias_lr_factor, self.summed_loss, examples_per_step)  # fmt: skip
