"""Lightning's progress bar, redrawn at most ten times a second."""

import time

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import TQDMProgressBar


class TimedProgressBar(TQDMProgressBar):
    """``TQDMProgressBar`` that skips a training step's redraw when the last one is under
    ``interval`` seconds old (always drawing an epoch's last step).

    Lightning's bar redraws after every ``refresh_rate`` steps, whatever they take; on an
    accelerator with millisecond steps the redraw itself becomes a noticeable share of each
    step, while on a CPU with second-long steps a fixed rate of 10 would leave the bar still
    for half a minute. A time interval fits both.
    """

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__()
        self.interval = interval
        self._last_draw = 0.0

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: object, batch: object, batch_idx: int
    ) -> None:
        now = time.monotonic()
        if now - self._last_draw < self.interval and batch_idx + 1 < self.total_train_batches:
            return
        self._last_draw = now
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
