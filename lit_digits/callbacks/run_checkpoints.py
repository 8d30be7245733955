"""The run's checkpoints: ``best.ckpt`` (the best ``val_acc``) and ``last.ckpt`` (after every
epoch, and when SIGTERM or Ctrl-C ends training; ``fit --ckpt_path last`` resumes from it)."""

import logging
import signal
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from lightning.fabric.plugins.environments import SLURMEnvironment
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException

from lit_digits.callbacks.slurm import requeue
from lit_digits.lightning_internals import HostComparedCheckpoint, kill_launched_processes
from lit_digits.precision import CHECKPOINT_KEY
from lit_digits.runs.run_folder import RunFolder

log = logging.getLogger(__name__)

EXIT_CODES = {"SIGTERM": 143, "Ctrl-C": 130}
"""The exit status of a run stopped by each: 128 + the signal's number, as a shell reports it."""

BEST = {"monitor": "val_acc", "mode": "max", "filename": "best", "enable_version_counter": False}
"""``best.ckpt``: one file per run (and its resumption, in the same folder), never -v1 copies."""


class CtrlC(Exception):
    """Raised before a training step starts when Ctrl-C (SIGINT) was pressed during the one before."""


class RunCheckpoints(HostComparedCheckpoint):
    """Lightning's ``ModelCheckpoint`` keeping ``best.ckpt`` in ``run_folder/checkpoints``, which
    also writes ``last.ckpt`` beside it: at the end of every epoch (after its validation), and when SIGTERM (a
    scheduler's stop, ``kill``, ``docker stop``) or a first Ctrl-C ends training cleanly.

    Lightning itself ends single-process training after the step that SIGTERM arrived in. With
    several processes (DDP, torchrun, SLURM) SIGTERM is only noted, and all of them end training
    after the same step, decided by a one-number all-reduce after each step (Lightning's own
    handler broadcasts from inside the signal handler, which deadlocks when the processes get the
    signal at different points of a step). Under SLURM, its warning before the time limit
    (``sbatch --signal=SIGUSR1@90``) ends training in the same way, and the first process then
    requeues the job (``slurm.requeue``): Lightning's own requeue handler, replaced here, would
    save an ``hpc_ckpt_N.ckpt`` outside the run folder, which the requeued job would then load.
    A Ctrl-C during single-process training is noted, and training ends before the next step
    starts (a second Ctrl-C stops at once, saving nothing); with several processes, Ctrl-C keeps
    Lightning's handling, which stops at once. ``lit_digits`` exits with ``EXIT_CODES``.

    One callback for both files and the stops, with nothing else to do after a step: Lightning
    calls every callback at each of a step's six hooks. (``save_last`` would not do: Lightning writes
    that copy only when a top-k file is saved, so an epoch that does not improve ``val_acc``
    would leave ``last.ckpt`` behind.) Its state is saved under ``ModelCheckpoint``'s own key,
    so runs saved by a plain ``ModelCheckpoint`` resume with their best score. Scores are
    compared on the host (``HostComparedCheckpoint``), so on XLA no comparison is a graph.

    Every process of a fit learns the run folder here (``RunFolder.share``: the run's one
    broadcast of it), when the processes first meet; validate, test and predict have none
    (``run_folder`` None), and write no checkpoints.

    ``precision`` (``PrecisionChoice.record``: the precision the run trains in, the recipe's, the
    hardware) goes into every checkpoint under ``CHECKPOINT_KEY``, so that a resume on the same
    processor keeps it and one on another says when it changes: here rather than in a callback of
    its own, which would cost every step Lightning's dispatch of six hooks (8 us).
    """

    def __init__(self, run_folder: RunFolder | None = None, precision: dict[str, str] | None = None) -> None:
        super().__init__(**BEST)
        self.run_folder = run_folder
        self.precision = precision
        self._state_key = ModelCheckpoint(**BEST).state_key  # Lightning reads it at every hook call
        self.ctrl_c = False
        self.stop_signal: str | None = None  # SIGTERM (several processes) or SIGUSR1 (SLURM), once noted
        self.trainer: Trainer | None = None
        self.previous_handlers: dict[int, Callable[[int, FrameType | None], Any] | int | None] = {}

    @property
    def state_key(self) -> str:
        return self._state_key

    def on_save_checkpoint(self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict[str, Any]) -> None:
        if self.precision is not None:
            checkpoint[CHECKPOINT_KEY] = dict(self.precision)

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if stage == "fit" and self.run_folder is not None:
            self.dirpath = str(self.run_folder.share(trainer.strategy) / "checkpoints")
        super().setup(trainer, pl_module, stage)

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        self.ctrl_c, self.stop_signal, self.trainer = False, None, trainer
        if trainer.world_size == 1:
            self._handle(signal.SIGINT, self._on_ctrl_c)
        else:
            self._handle(signal.SIGTERM, self._on_stop_signal)
        if SLURMEnvironment.detect():
            self._handle(signal.SIGUSR1, self._on_stop_signal)

    def _handle(self, signum: int, handler: Callable[[int, FrameType | None], None]) -> None:
        self.previous_handlers[signum] = signal.signal(signum, handler)

    def _on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_signal is None and self.trainer is not None:
            kill_launched_processes(self.trainer, signum)
        self.stop_signal = signal.Signals(signum).name
        log.info(f"{self.stop_signal}: stopping after this step and saving last.ckpt")

    def _on_ctrl_c(self, signum: int, frame: FrameType | None) -> None:
        if self.ctrl_c:
            raise KeyboardInterrupt
        self.ctrl_c = True
        log.info("Ctrl-C: stopping after this step and saving last.ckpt (press again to stop at once)")

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, batch: object, batch_idx: int) -> None:
        if self.ctrl_c:
            raise CtrlC

    def on_train_batch_end(self, trainer: Trainer, *args: object) -> None:
        """End training here if a process noted a stop signal. No file: both are written at epoch
        ends (``ModelCheckpoint`` would check here whether ``every_n_train_steps`` or
        ``train_time_interval``, both off, asks for a copy)."""
        stop = self.stop_signal is not None
        if trainer.world_size > 1:
            stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
        if stop:
            raise SIGTERMException

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        if not (isinstance(exception, (SIGTERMException, CtrlC)) and trainer.training):
            self._restore_handler()
            return
        # A stop: each process gets its signal from its own launcher, at its own time, so one may come
        # after all have decided to stop. This callback's handler only notes it; Lightning's, which
        # broadcasts from inside the handler, would deadlock the save's collectives. So the stop
        # signals keep this handler until Lightning's teardown, which follows, restores its own.
        self._restore_handler(keep=(signal.SIGTERM, signal.SIGUSR1))
        path = self._save_last(trainer)
        if path and trainer.is_global_zero:
            log.info(f"saved step {trainer.global_step} to {path}; fit --ckpt_path last resumes from it")
        if path and self.stop_signal == "SIGUSR1" and trainer.is_global_zero:
            requeue()

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
        trainer.save_checkpoint(path, weights_only=False)  # a whole checkpoint, to resume from
        return path

    def _restore_handler(self, keep: tuple[int, ...] = ()) -> None:
        """Put back the handlers this callback replaced, but those of the signals in ``keep``."""
        for signum, previous in self.previous_handlers.items():
            if signum in keep:
                continue
            if previous is None:  # one set outside Python; Python's own is the closest
                previous = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
            signal.signal(signum, previous)
        self.previous_handlers = {}
