"""The epoch's training loss and accuracy, summed on the device inside each step's graph."""

from collections import Counter
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torchmetrics import MeanMetric

from lit_digits.accelerators import run_pending
from lit_digits.optim.groups import learning_rates


class EpochMean(MeanMetric):
    """A ``MeanMetric`` whose reset is a graph of its own on XLA, after one of what is pending
    before it. Lightning resets the epoch metrics right after computing and logging the epoch's
    figures, with no hook between; this cut runs that end-of-epoch work before the next epoch's
    count, and leaves every epoch, the first included (``TrainingFigures.restart``), to start
    from the same reset graph, so that nothing compiles after epoch 0 (docs/xla.md). Use
    ``update`` and ``compute`` only: torchmetrics' ``forward`` resets, so each call would cut a
    step's graph. Off XLA it is ``MeanMetric``."""

    def reset(self) -> None:
        run_pending(self.device)
        super().reset()
        run_pending(self.device)


class TrainingFigures(nn.Module):
    """Two running sums on the device (the loss, the correct predictions), added to in the step's
    own graph, and counts on the host (batches and images: sizes known there); read only at the
    epoch's end, through two ``MeanMetric`` (``train_loss``, ``train_acc``) that average them over
    devices, so nothing in a step waits for the host or pays for logging bookkeeping (two
    torchmetrics updates in every step cost it more host time than anything the configs add:
    docs/speed.md). A non-finite loss makes the loss sum non-finite too, which is what the
    non-finite guard reads.

    The sums are not buffers (DDP would overwrite every rank's with rank 0's before each step) and
    not in checkpoints; ``start`` makes them on the device when a fit starts.
    """

    def __init__(self) -> None:
        super().__init__()
        self.loss_sum, self.correct = torch.zeros(()), torch.zeros((), dtype=torch.int64)
        self.counts: Counter[str] = Counter()  # a dict: int attributes would cost each step __setattr__
        self.train_loss, self.train_acc = EpochMean(), EpochMean()

    def start(self, device: torch.device) -> None:
        """New sums on ``device``, and the epoch metrics in float32 (after Lightning's cast)."""
        self.loss_sum = torch.zeros((), device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.keep_float32()

    def keep_float32(self) -> None:
        for metric in (self.train_loss, self.train_acc):
            metric.set_dtype(torch.float32)

    def add(self, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        """A training step's figures, in place (``+=`` would also go through ``__setattr__``)."""
        self.loss_sum.add_(loss.detach())
        self.correct.add_((logits.argmax(dim=-1) == y).sum())
        self.counts.update(batches=1, images=y.shape[0])

    def log_epoch(self, log: Callable[..., Any]) -> None:
        """The epoch's mean batch loss and accuracy, to ``log`` (``LightningModule.log``, which logs
        metrics without leaving work pending into the next step's XLA graph, as a tensor would)."""
        batches, images = self.counts["batches"], self.counts["images"]
        if batches:
            self.train_loss.update(self.loss_sum / batches, weight=batches)
            self.train_acc.update(self.correct / images, weight=images)
            log("train_loss", self.train_loss, prog_bar=True)
            log("train_acc", self.train_acc, prog_bar=True)

    def restart(self, metrics: bool = False) -> None:
        """Zero the sums in place, by arithmetic: on XLA, zeros written as a constant are not a buffer
        the next step may overwrite, as a step's own outputs are, so the first step of every epoch
        would compile a graph of its own (docs/xla.md). (The sums are finite here: the non-finite
        guard reads them at an epoch's last step.) With ``metrics``, reset the epoch metrics too, as
        Lightning resets them after each epoch: training starts from the state every later epoch
        starts from, so that on XLA the first epoch compiles the graphs the later ones use."""
        self.loss_sum.mul_(0)
        self.correct.mul_(0)
        self.counts.clear()
        if metrics:
            self.train_loss.reset()
            self.train_acc.reset()


def write_step_figures(model: Any, loss: torch.Tensor) -> None:
    """Write a logging step's loss and the next step's learning rates to ``model``'s loggers: values
    the step has already computed, so no step graph changes (``self.log`` in the step would put its
    bookkeeping into every step, or compile extra XLA graphs)."""
    rates = learning_rates(model.optimizers(use_pl_optimizer=False))
    metrics = {"train_loss_step": float(loss), **rates, "epoch": model.current_epoch}
    for logger in model.loggers:
        logger.log_metrics(metrics, model.global_step)


def is_logging_step(model: Any) -> bool:
    """Whether the step ``model`` just took is one whose figures are written (``log_every_n_steps``)."""
    every = model.trainer.log_every_n_steps
    return every > 0 and model.global_step % every == 0
