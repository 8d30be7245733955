"""A recipe's optimizer as data: which parameters each optimizer trains, at which rate and weight decay."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from lightning.pytorch.cli import OptimizerCallable
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from lit_digits.errors import LitDigitsError
from lit_digits.optim.combined import CombinedOptimizer
from lit_digits.optim.summed_loss import SummedLoss
from lit_digits.schedules import LRSchedule
from lit_digits.spec import build, factory


@dataclass
class ParamGroup:
    """Some of a model's parameters, chosen by name, and how they are trained.

    Args:
        params: patterns (``fnmatch``: ``*`` also matches dots) of parameter names, such as
            ``net.group*.conv*.weight``; a parameter belongs to the first group that matches it.
        optimizer: their own optimizer; ``None``: the model's ``optimizer``, of which the group
            is then one more parameter group.
        lr_schedule: their learning rate at each step; ``None``: the model's ``lr_schedule``.
        weight_decay: their weight decay; ``None``: the optimizer's.
    """

    params: Sequence[str]
    optimizer: OptimizerCallable | None = None
    lr_schedule: LRSchedule | None = None
    weight_decay: float | None = None


def as_param_group(value: ParamGroup | Mapping[str, Any]) -> ParamGroup:
    """A group given as an object, or as the mapping a config or a checkpoint's hparams hold."""
    if isinstance(value, ParamGroup):
        return value
    group = ParamGroup(**value)
    group.optimizer = None if group.optimizer is None else factory(group.optimizer)
    group.lr_schedule = None if group.lr_schedule is None else build(group.lr_schedule)
    return group


Schedule = Callable[[int], float]


def make_optimizer(
    named_parameters: Sequence[tuple[str, nn.Parameter]],
    groups: Sequence[ParamGroup],
    optimizer: Callable[..., Optimizer],
    lr_schedule: LRSchedule,
    steps_per_epoch: int,
    epochs: int,
    bias_lr_factor: float = 1.0,
    summed_loss: SummedLoss | None = None,
    examples_per_step: int | None = None,
) -> tuple[Optimizer, LambdaLR]:
    """The optimizer over ``named_parameters`` (the trainable ones) and a per-step scheduler that
    gives each parameter group its schedule's rate.

    The parameters no group takes go to ``optimizer`` with ``lr_schedule``; with a
    ``bias_lr_factor``, those named ``*bias`` among them form a group of their own with that
    times the rate and 1/that of the weight decay. Groups without an optimizer of their own
    join ``optimizer`` as parameter groups; where several optimizers result, they are stepped
    together (:class:`CombinedOptimizer`). With ``summed_loss``, the groups of ``optimizer`` are
    converted from the reference's terms at ``examples_per_step`` examples a step (``None``: the
    reference's batch).
    """
    chosen, rest = _split(named_parameters, groups)
    weights = [p for name, p in rest if bias_lr_factor == 1 or not name.endswith("bias")]
    biases = [p for name, p in rest if bias_lr_factor != 1 and name.endswith("bias")]
    default_groups = [
        ({"params": weights}, lr_schedule),
        ({"params": biases, "lr_factor": bias_lr_factor}, lr_schedule),
    ]
    default_groups = [(torch_group, schedule) for torch_group, schedule in default_groups if torch_group["params"]]
    own: list[tuple[Callable[..., Optimizer], dict[str, Any], LRSchedule]] = []
    for group, params in zip(groups, chosen):
        torch_group = {"params": params}
        if group.weight_decay is not None:
            torch_group["weight_decay"] = group.weight_decay
        schedule = group.lr_schedule or lr_schedule
        if group.optimizer is None:
            default_groups.append((torch_group, schedule))
        else:
            own.append((group.optimizer, torch_group, schedule))
    optimizers = [optimizer([g for g, _ in default_groups])] if default_groups else []
    optimizers += [make([torch_group]) for make, torch_group, _ in own]
    schedules = [s for _, s in default_groups] + [s for _, _, s in own]
    combined = optimizers[0] if len(optimizers) == 1 else CombinedOptimizer(optimizers)
    for torch_group in combined.param_groups:
        # LambdaLR multiplies this by the schedule's value: the schedule's rate (x the factor)
        factor = torch_group.get("lr_factor", 1.0)
        torch_group["lr"] = factor
        torch_group["weight_decay"] = torch_group.get("weight_decay", 0.0) / factor
    if summed_loss is not None and default_groups:
        examples = examples_per_step or summed_loss.batch_size
        defaults = combined.param_groups[: len(default_groups)]
        summed_loss.convert(defaults, [s for _, s in default_groups], examples, steps_per_epoch, epochs)
    rates = [_per_step(schedule, steps_per_epoch, epochs) for schedule in schedules]
    return combined, LambdaLR(combined, rates)


def _per_step(schedule: LRSchedule, steps_per_epoch: int, epochs: int) -> Schedule:
    return lambda step: schedule(step, steps_per_epoch, epochs)


def _split(
    named_parameters: Sequence[tuple[str, nn.Parameter]], groups: Sequence[ParamGroup]
) -> tuple[list[list[nn.Parameter]], list[tuple[str, nn.Parameter]]]:
    """Each group's parameters, and the (name, parameter) pairs no group takes."""
    rest = list(named_parameters)
    chosen = []
    for i, group in enumerate(groups):
        mine = [(name, p) for name, p in rest if any(fnmatchcase(name, pattern) for pattern in group.params)]
        if not mine:
            names = ", ".join(name for name, _ in named_parameters)
            raise LitDigitsError(
                f"param_groups[{i}]'s params {list(group.params)} match no trainable parameter that an earlier "
                f"group has not taken; the trainable parameters are: {names}"
            )
        chosen.append([p for _, p in mine])
        taken = {name for name, _ in mine}
        rest = [(name, p) for name, p in rest if name not in taken]
    return chosen, rest


def learning_rate_names(optimizer: Optimizer) -> list[str]:
    """A name per parameter group, as Lightning's ``LearningRateMonitor`` names them: ``lr-Adam``,
    or ``lr-SGD/pg1``, ``lr-SGD/pg2``, ... for an optimizer of several groups; for a
    :class:`CombinedOptimizer`, the names of each of its optimizers (a repeated class name
    gets ``-1``, ``-2``, ...)."""
    parts = optimizer.optimizers if isinstance(optimizer, CombinedOptimizer) else [optimizer]
    names, seen = [], {}
    for part in parts:
        name = f"lr-{type(part).__name__}"
        seen[name] = seen.get(name, -1) + 1
        if seen[name]:
            name = f"{name}-{seen[name]}"
        groups = part.param_groups
        names += [name] if len(groups) == 1 else [f"{name}/pg{i}" for i in range(1, len(groups) + 1)]
    return names


def learning_rates(optimizer: Optimizer) -> dict[str, float]:
    """The rate of each parameter group for the next step, by ``learning_rate_names``."""
    return {name: float(group["lr"]) for name, group in zip(learning_rate_names(optimizer), optimizer.param_groups)}


def check_groups(named_parameters: Sequence[tuple[str, nn.Parameter]], groups: Sequence[ParamGroup]) -> None:
    """Refuse, in one line, a group whose patterns match no parameter that an earlier group has not
    taken: where the recipe is built, before any data is read."""
    _split(named_parameters, groups)
