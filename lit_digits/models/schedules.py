"""The recipes' learning-rate schedules, as optimizer + per-step scheduler configs."""

import math
from functools import partial
from typing import Iterable

import numpy as np
import torch
from lightning.pytorch.utilities.types import OptimizerLRSchedulerConfig
from torch.optim.lr_scheduler import LambdaLR


def exponential_decay(step: int, lr: float, min_lr: float, decay_steps: float) -> float:
    """``min_lr + lr * exp(-step / decay_steps)``: the Cloud TPU MNIST tutorial's schedule."""
    return min_lr + lr * math.exp(-step / decay_steps)


def piecewise_linear(epoch: float, epochs: Iterable[float], values: Iterable[float]) -> float:
    """Linear interpolation between (epoch, value) knots: DavidNet's triangular schedule."""
    return float(np.interp(epoch, list(epochs), list(values)))


def adam_with_exponential_decay(
    params: Iterable[torch.nn.Parameter], lr: float, min_lr: float, decay_steps: float
) -> OptimizerLRSchedulerConfig:
    """Adam with :func:`exponential_decay` set every step (the MNIST tutorials' recipe)."""
    schedule = partial(exponential_decay, lr=lr, min_lr=min_lr, decay_steps=decay_steps)
    return per_step(torch.optim.Adam(params, lr=lr), schedule)


def per_step(optimizer: torch.optim.Optimizer, lr_at_step) -> OptimizerLRSchedulerConfig:
    """Lightning's config for ``optimizer`` with the absolute learning rate ``lr_at_step(step)``."""
    base_lr = optimizer.param_groups[0]["lr"]
    scheduler = LambdaLR(optimizer, lambda step: lr_at_step(step) / base_lr)
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
