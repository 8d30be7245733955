"""Stopping a fit cleanly: on SIGTERM or Ctrl-C, training ends between two steps and
``last.ckpt`` is saved, so that ``fit --ckpt_path last`` resumes from that step."""

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


class SaveWhenStopped(Callback):
    """Ends training cleanly on SIGTERM (a scheduler's stop, ``kill``, ``docker stop``) or a
    first Ctrl-C, and then writes ``last.ckpt`` where the run keeps it.

    Lightning itself ends training after the step that SIGTERM arrived in. A Ctrl-C during
    single-process training is noted, and training ends before the next step starts (a second
    Ctrl-C stops at once, saving nothing); with several processes, Ctrl-C keeps Lightning's
    handling, which stops at once. ``lit_digits`` exits with ``EXIT_CODES``.
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
        if not isinstance(exception, (SIGTERMException, CtrlC)) or not trainer.training:
            return
        folders = [Path(c.dirpath) for c in trainer.checkpoint_callbacks if getattr(c, "dirpath", None)]
        if folders:
            path = folders[0] / "last.ckpt"
            trainer.save_checkpoint(path)
            log.info(f"saved step {trainer.global_step} to {path}; fit --ckpt_path last resumes from it")

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._restore_handler()

    def _restore_handler(self) -> None:
        if self.handling_ctrl_c:
            previous = self.previous_handler  # None: one set outside Python; Python's own is the closest
            signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)
            self.handling_ctrl_c = False
