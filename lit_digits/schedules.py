"""Learning-rate schedules as values: a recipe passes one to its model, which sets the rate every step.

Each schedule maps ``(step, steps_per_epoch, epochs)`` to the learning rate of that optimizer
step; ``epochs`` is the fit's length: the trainer's ``max_epochs``, or, for a recipe named in steps
(``max_epochs: null``, ``max_steps: N``), N steps' worth, a fraction too (``models.schedule_span``).
In a config::

    lr_schedule:
      class_path: lit_digits.schedules.Triangular
      init_args: {peak_lr: 0.4, peak_epoch: 5}
"""

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from lit_digits.errors import LitDigitsError


class LRSchedule(ABC):
    """The learning rate at each optimizer step."""

    @abstractmethod
    def __call__(self, step: int, steps_per_epoch: int, epochs: int) -> float:
        """The learning rate of optimizer step ``step`` (from 0) of a run of ``epochs`` epochs."""


def _check_rate(name: str, value: float) -> None:
    if not value >= 0:  # also refuses NaN
        raise LitDigitsError(f"{name} must be a learning rate >= 0, got {value}")


class Constant(LRSchedule):
    """The same learning rate at every step (Keras's Adam default: 0.001)."""

    def __init__(self, lr: float = 0.001) -> None:
        _check_rate("lr", lr)
        self.lr = lr

    def __call__(self, step: int, steps_per_epoch: int, epochs: int) -> float:
        return self.lr


class ExponentialDecay(LRSchedule):
    """``min_lr + lr * exp(-step / decay_steps)``, every step: the Cloud TPU MNIST tutorial's schedule."""

    def __init__(self, lr: float = 0.01, decay_steps: float = 2000, min_lr: float = 0.0001) -> None:
        _check_rate("lr", lr)
        _check_rate("min_lr", min_lr)
        if not decay_steps > 0:
            raise LitDigitsError(f"decay_steps must be > 0, got {decay_steps}")
        self.lr, self.decay_steps, self.min_lr = lr, decay_steps, min_lr

    def __call__(self, step: int, steps_per_epoch: int, epochs: int) -> float:
        return self.min_lr + self.lr * math.exp(-step / self.decay_steps)


class EpochDecay(LRSchedule):
    """``min_lr + lr * factor ** epoch``, constant within an epoch: Keras's ``LearningRateScheduler``
    with the codelab's ``lr_decay(epoch)`` (``0.01 * 0.6 ** epoch``, later ``0.666``)."""

    def __init__(self, lr: float = 0.01, factor: float = 0.6, min_lr: float = 0.0) -> None:
        _check_rate("lr", lr)
        _check_rate("min_lr", min_lr)
        if not 0 < factor <= 1:
            raise LitDigitsError(f"factor must be in (0, 1], got {factor}")
        self.lr, self.factor, self.min_lr = lr, factor, min_lr

    def __call__(self, step: int, steps_per_epoch: int, epochs: int) -> float:
        return self.min_lr + self.lr * self.factor ** (step // max(steps_per_epoch, 1))


class PiecewiseLinear(LRSchedule):
    """Linear between ``(epoch, lr)`` knots, at the fractional epoch of every step; the last value after the last knot."""

    def __init__(self, epochs: Sequence[float] = (0, 5, 24), lrs: Sequence[float] = (0.0, 0.4, 0.0)) -> None:
        if len(epochs) != len(lrs) or len(epochs) < 2:
            raise LitDigitsError(
                f"epochs and lrs need the same number (>= 2) of knots, got {len(epochs)} and {len(lrs)}"
            )
        if epochs[0] < 0 or any(b < a for a, b in pairwise(epochs)):
            raise LitDigitsError(f"epochs must be >= 0 and not decreasing, got {list(epochs)}")
        for lr in lrs:
            _check_rate("every lr of lrs", lr)
        self.epochs, self.lrs = list(epochs), list(lrs)

    def __call__(self, step: int, steps_per_epoch: int, epochs: int) -> float:
        return float(np.interp(step / steps_per_epoch, self.epochs, self.lrs))


class Triangular(LRSchedule):
    """``start_lr`` -> ``peak_lr`` at ``peak_epoch`` -> ``end_lr`` at the trainer's ``max_epochs``, linear at
    the fractional epoch of every step: DavidNet's schedule, which follows ``--trainer.max_epochs``."""

    def __init__(self, peak_lr: float = 0.4, peak_epoch: float = 5, start_lr: float = 0.0, end_lr: float = 0.0) -> None:
        for name, lr in (("peak_lr", peak_lr), ("start_lr", start_lr), ("end_lr", end_lr)):
            _check_rate(name, lr)
        if not peak_epoch >= 0:
            raise LitDigitsError(f"peak_epoch must be >= 0, got {peak_epoch}")
        self.peak_lr, self.peak_epoch, self.start_lr, self.end_lr = peak_lr, peak_epoch, start_lr, end_lr

    def __call__(self, step: int, steps_per_epoch: int, epochs: int) -> float:
        if epochs < self.peak_epoch:
            raise LitDigitsError(
                f"max_epochs {epochs} ends the run before the schedule's peak_epoch {self.peak_epoch}; "
                "raise --trainer.max_epochs or lower lr_schedule's peak_epoch"
            )
        knots = (0, self.peak_epoch, epochs), (self.start_lr, self.peak_lr, self.end_lr)
        return float(np.interp(step / steps_per_epoch, *knots))


class LinearDecay(LRSchedule):
    """``lr`` at step 0, linearly down to 0 at ``end_epoch`` (the trainer's ``max_epochs`` if None),
    0 after: airbench's schedule, and with an ``end_epoch`` that of its whitening bias."""

    def __init__(self, lr: float = 0.1, end_epoch: float | None = None) -> None:
        _check_rate("lr", lr)
        if end_epoch is not None and not end_epoch > 0:
            raise LitDigitsError(f"end_epoch must be > 0 (or null: the end of training), got {end_epoch}")
        self.lr, self.end_epoch = lr, end_epoch

    def __call__(self, step: int, steps_per_epoch: int, epochs: int) -> float:
        end = self.end_epoch or epochs
        return self.lr * max(0.0, 1 - step / (steps_per_epoch * end))
