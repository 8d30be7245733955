"""Keeping torch-xla's graphs the same from epoch to epoch, and counting its compilations."""

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

from lit_digits.accelerators import run_pending


def xla_compiles() -> tuple[int, float]:
    """How many XLA graphs this process has compiled so far, and the seconds that took."""
    import torch_xla.debug.metrics as met

    data = met.metric_data("CompileTime")
    return (int(data[0]), data[1] / 1e9) if data else (0, 0.0)


class XLAGraphCheck(Callback):
    """On XLA devices: cuts the graphs where they repeat, and reports torch-xla's compilation
    count after every epoch this process trains steps in (``counts``: the totals after each, in
    order; a resumed run's first is the epoch of its first step).

    torch-xla runs what is pending as one graph at each step's end. Two more cuts keep every
    graph the same from one epoch to the next, so that all of them compile in the first epoch:

    - After each validation and test batch: one graph a batch (the last, partial batch has
      its own), where Lightning's single-device loop would leave the whole evaluation pending
      until its figures are read, one graph a run of it, unrolled over all its batches.
    - When a training epoch starts: whatever is still pending runs as its own graph rather
      than joining the first step's, which would then differ from every other step's. (The end
      of an epoch, Lightning's epoch figures and metric resets, is cut where the training
      figures reset: ``models.training_figures.EpochMean``.)

    After the first epoch the count must stay put; a growth means something changes shape or
    value-dependent structure from step to step and is reported with a warning
    (``PT_XLA_DEBUG_LEVEL=1`` says why). Off XLA it does nothing.
    """

    def __init__(self) -> None:
        self.counts: list[int] = []
        self.first_epoch: int | None = None  # of this process's first step: > 0 where a run resumed

    def on_train_batch_start(self, trainer: Trainer, *args: object) -> None:
        if self.first_epoch is None:
            self.first_epoch = trainer.current_epoch

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._counting(pl_module) and trainer.current_epoch > self.first_epoch:
            self._report(trainer.current_epoch - 1)
        run_pending(pl_module.device)

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._counting(pl_module):
            self._report(trainer.current_epoch - 1)

    def _counting(self, pl_module: LightningModule) -> bool:
        return pl_module.device.type == "xla" and self.first_epoch is not None

    def on_validation_batch_end(self, trainer: Trainer, pl_module: LightningModule, *args: object) -> None:
        run_pending(pl_module.device)

    def on_test_batch_end(self, trainer: Trainer, pl_module: LightningModule, *args: object) -> None:
        run_pending(pl_module.device)

    def _report(self, epoch: int) -> None:
        count, seconds = xla_compiles()
        rank_zero_info(f"XLA compilations after epoch {epoch}: {count} ({seconds:.1f} s compiling)")
        if self.counts and count > self.counts[-1]:
            rank_zero_warn(f"XLA compiled {count - self.counts[-1]} new graphs in epoch {epoch}")
        self.counts.append(count)
