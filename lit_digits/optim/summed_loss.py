"""Rates written as a reference that sums its loss over the batch writes them (airbench)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lit_digits.errors import LitDigitsError
from lit_digits.schedules import LRSchedule


@dataclass
class SummedLoss:
    """The rates and weight decay of the model's ``optimizer`` (the groups without an optimizer
    of their own) in the terms of a reference that sums its loss over the batch, as airbench's
    ``loss.sum()`` with SGD.

    lit_digits averages the loss, so each such group is given its schedule's rate x the examples
    of a step, and ``weight_decay / r0`` as its weight decay (replacing any of its own), where ``r0`` is its per-example rate at
    step 0: airbench's ``weight_decay=wd/lr`` with ``wd = 2e-6 * batch_size``, the same steps.

    The batch-size rule is the reference's own: its code sums whatever batch it is given, so its
    rates hold per example, and a batch of ``n`` examples (per step, over every process) steps
    ``n / batch_size`` as far as the published batch's, with the same decay per example.
    Optimizers with their own rates (Muon, whose step does not depend on the gradient's scale)
    are not converted.

    Args:
        batch_size: the batch the reference publishes its rates for (airbench: 2000), what
            ``report --config`` draws and what a fit with another batch is told about.
        weight_decay: per example and step, as the reference's ``wd / batch_size``.
    """

    batch_size: int
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        if self.batch_size < 1 or not self.weight_decay >= 0:
            raise LitDigitsError(
                f"summed_loss needs batch_size >= 1 and weight_decay >= 0, got {self.batch_size} and {self.weight_decay}"
            )

    def convert(
        self, torch_groups: Sequence[dict[str, Any]], schedules: Sequence[LRSchedule], examples: int,
        steps_per_epoch: int, epochs: int,
    ) -> None:  # fmt: skip
        """Turn the optimizer's ``torch_groups`` (each ``lr`` a factor of its schedule's rate) from the
        reference's summed loss to lit_digits' mean loss, at ``examples`` examples a step."""
        for group, schedule in zip(torch_groups, schedules, strict=True):
            first = group["lr"] * schedule(0, steps_per_epoch, epochs)
            if not first > 0:
                raise LitDigitsError(
                    "summed_loss gives each group weight_decay / its rate at step 0, but a group of the model's "
                    "optimizer starts at rate 0; give it a schedule that starts above 0, or leave summed_loss out"
                )
            group["weight_decay"] = self.weight_decay / first
            group["lr"] *= examples


def as_summed_loss(value: SummedLoss | Mapping[str, Any] | None) -> SummedLoss | None:
    """The setting as an object, from the object or the mapping a config or a checkpoint holds."""
    return SummedLoss(**value) if isinstance(value, Mapping) else value
