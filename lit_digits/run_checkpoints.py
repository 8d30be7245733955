"""The run's checkpoints: ``best.ckpt`` (the best ``val_acc``) and ``last.ckpt`` (after every
epoch, and when SIGTERM or Ctrl-C ends training; ``fit --ckpt_path last`` resumes from it)."""

import logging
import signal
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException

log = logging.getLogger(__name__)

EXIT_CODES = {"SIGTERM": 143, "Ctrl-C": 130}
"""The exit status of a run stopped by each: 128 + the signal's number, as a shell reports it."""

BEST = {"monitor": "val_acc", "mode": "max", "filename": "best", "enable_version_counter": False}
"""``best.ckpt``: one file per run (and its resumption, in the same folder), never -v1 copies."""


class CtrlC(Exception):
    """Raised before a training step starts when Ctrl-C (SIGINT) was pressed during the one before."""


class RunCheckpoints(ModelCheckpoint):
    """Lightning's ``ModelCheckpoint`` keeping ``best.ckpt``, which also writes ``last.ckpt``
    beside it: at the end of every epoch (after its validation), and when SIGTERM (a
    scheduler's stop, ``kill``, ``docker stop``) or a first Ctrl-C ends training cleanly.

    Lightning itself ends training after the step that SIGTERM arrived in. A Ctrl-C during
    single-process training is noted, and training ends before the next step starts (a second
    Ctrl-C stops at once, saving nothing); with several processes, Ctrl-C keeps Lightning's
    handling, which stops at once. ``lit_digits`` exits with ``EXIT_CODES``.

    One callback for both files, with nothing to do after a step: Lightning calls every
    callback at each of a step's six hooks. (``save_last`` would not do: Lightning writes
    that copy only when a top-k file is saved, so an epoch that does not improve ``val_acc``
    would leave ``last.ckpt`` behind.) Its state is saved under ``ModelCheckpoint``'s own key,
    so runs saved by a plain ``ModelCheckpoint`` resume with their best score.
    """

    def __init__(self) -> None:
        super().__init__(**BEST)
        self._state_key = ModelCheckpoint(**BEST).state_key  # Lightning reads it at every hook call
        self.ctrl_c = False
        self.previous_handler: Callable[[int, FrameType | None], Any] | int | None = None
        self.handling_ctrl_c = False

    @property
    def state_key(self) -> str:
        return self._state_key

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
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

    def on_train_batch_end(self, *args: object) -> None:
        """Nothing: both files are written at epoch ends (``ModelCheckpoint`` would check here
        whether ``every_n_train_steps`` or ``train_time_interval``, both off, asks for a copy)."""

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        self._restore_handler()
        if isinstance(exception, (SIGTERMException, CtrlC)) and trainer.training:
            path = self._save_last(trainer)
            if path:
                log.info(f"saved step {trainer.global_step} to {path}; fit --ckpt_path last resumes from it")

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if not trainer.fast_dev_run:  # which writes no checkpoints
            self._save_last(trainer)

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_train_end(trainer, pl_module)
        self._restore_handler()

    def _save_last(self, trainer: Trainer) -> Path | None:
        """Write ``last.ckpt`` beside ``best.ckpt`` (None before the folder is known)."""
        if not self.dirpath:
            return None
        path = Path(self.dirpath) / f"{self.CHECKPOINT_NAME_LAST}{self.FILE_EXTENSION}"
        self.last_model_path = str(path)  # before saving, so that the checkpoint names itself
        trainer.save_checkpoint(path)
        return path

    def _restore_handler(self) -> None:
        if self.handling_ctrl_c:
            previous = self.previous_handler  # None: one set outside Python; Python's own is the closest
            signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)
            self.handling_ctrl_c = False
