"""The recipes' learning-rate schedules, as plain functions of the step or epoch."""

import math
from collections.abc import Iterable

import numpy as np


def exponential_decay(step: int, lr: float, min_lr: float, decay_steps: float) -> float:
    """``min_lr + lr * exp(-step / decay_steps)``: the Cloud TPU MNIST tutorial's schedule."""
    return min_lr + lr * math.exp(-step / decay_steps)


def piecewise_linear(epoch: float, epochs: Iterable[float], values: Iterable[float]) -> float:
    """Linear interpolation between (epoch, value) knots: DavidNet's triangular schedule."""
    return float(np.interp(epoch, list(epochs), list(values)))
