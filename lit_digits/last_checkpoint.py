"""``last.ckpt``, where ``fit --ckpt_path last`` resumes: written at every epoch's end, and
when SIGTERM or Ctrl-C ends training between two steps."""

import logging
import signal
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities.exceptions import SIGTERMException

log = logging.getLogger(__name__)

EXIT_CODES = {"SIGTERM": 143, "Ctrl-C": 130}
"""The exit status of a run stopped by each: 128 + the signal's number, as a shell reports it."""


class CtrlC(Exception):
    """Raised before a training step starts when Ctrl-C (SIGINT) was pressed during the one before."""


class SaveLast(Callback):
    """Writes ``last.ckpt`` where the run keeps its checkpoints: at the end of every epoch
    (after its validation), and when SIGTERM (a scheduler's stop, ``kill``, ``docker stop``)
    or a first Ctrl-C ends training cleanly.

    Lightning itself ends training after the step that SIGTERM arrived in. A Ctrl-C during
    single-process training is noted, and training ends before the next step starts (a second
    Ctrl-C stops at once, saving nothing); with several processes, Ctrl-C keeps Lightning's
    handling, which stops at once. ``lit_digits`` exits with ``EXIT_CODES``.

    (A second ``ModelCheckpoint`` could write the epochs' copies, but Lightning calls every
    callback at every step: one callback for both costs each step less.)
    """

    def __init__(self) -> None:
        self.ctrl_c = False
        self.previous_handler: Callable[[int, FrameType | None], Any] | int | None = None
        self.handling_ctrl_c = False

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.ctrl_c = False
        if trainer.world_size == 1:
            self.previous_handler = signal.signal(signal.SIGINT, self._on_ctrl_c)
            self.handling_ctrl_c = True

    def _on_ctrl_c(self, signum: int, frame: FrameType | None) -> None:
        if self.ctrl_c:
            raise KeyboardInterrupt
        self.ctrl_c = True
        log.info("Ctrl-C: stopping after this step and saving last.ckpt (press again to stop at once)")

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, batch: object, batch_idx: int) -> None:
        if self.ctrl_c:
            raise CtrlC

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        self._restore_handler()
        if isinstance(exception, (SIGTERMException, CtrlC)) and trainer.training:
            path = self._save(trainer)
            if path:
                log.info(f"saved step {trainer.global_step} to {path}; fit --ckpt_path last resumes from it")

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.fast_dev_run:  # which writes no checkpoints
            self._save(trainer)

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._restore_handler()

    @staticmethod
    def _save(trainer: Trainer) -> Path | None:
        """Write ``last.ckpt`` beside the run's other checkpoints (none without a checkpoint callback)."""
        folders = [Path(c.dirpath) for c in trainer.checkpoint_callbacks if getattr(c, "dirpath", None)]
        if not folders:
            return None
        path = folders[0] / "last.ckpt"
        trainer.save_checkpoint(path)
        return path

    def _restore_handler(self) -> None:
        if self.handling_ctrl_c:
            previous = self.previous_handler  # None: one set outside Python; Python's own is the closest
            signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)
            self.handling_ctrl_c = False
