"""Lightning's progress bar, redrawn at most ten times a second, and on stderr while predicting."""

import contextlib
import math
import sys
import time
from collections.abc import Callable

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import TQDMProgressBar
from tqdm.auto import tqdm


class TimedProgressBar(TQDMProgressBar):
    """``TQDMProgressBar`` that skips a training step's redraw when the last one is under
    ``interval`` seconds old (always drawing an epoch's last step).

    Lightning's bar redraws after every ``refresh_rate`` steps, whatever they take; on an
    accelerator with millisecond steps the redraw itself becomes a noticeable share of each
    step, while on a CPU with second-long steps a fixed rate of 10 would leave the bar still
    for half a minute. A time interval fits both.

    The predict bar goes to stderr, so that stdout holds the predictions alone.
    """

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__()
        self.interval = interval
        self.clock: Callable[[], float] = time.monotonic
        """Seconds from any fixed point; replaceable (a benchmark's arm keeps a clock of its own)."""
        self._last_draw = -math.inf  # the first step draws, whatever the clock
        self._epoch_batches = 0

    def on_train_epoch_start(self, trainer: Trainer, *args: object) -> None:
        super().on_train_epoch_start(trainer, *args)
        self._epoch_batches = self.total_train_batches  # worked out once, not at every step

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: object, batch: object, batch_idx: int
    ) -> None:
        now = self.clock()
        if now - self._last_draw < self.interval and batch_idx + 1 < self._epoch_batches:
            return
        self._last_draw = now
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def init_predict_tqdm(self) -> tqdm:
        with contextlib.redirect_stdout(sys.stderr):  # Lightning's bar writes to whatever sys.stdout is now
            return super().init_predict_tqdm()
