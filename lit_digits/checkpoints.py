"""Checkpoint files that survive faults: atomic writes, and a resumable save on SIGTERM."""

import logging
import os
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.plugins.io import TorchCheckpointIO, XLACheckpointIO
from lightning.pytorch.utilities.exceptions import SIGTERMException

from lit_digits.errors import LitDigitsError

log = logging.getLogger(__name__)
SIGTERM_EXIT_CODE = 143
"""The exit status of a run stopped by SIGTERM: 128 + 15, as a shell reports a process killed by it."""


class AtomicWrites:
    """For a ``CheckpointIO``: write each checkpoint to a temporary file in the same folder,
    then rename it over the old one, so a failed write (disk full, no permission) never
    truncates or replaces the last good checkpoint; the failure is one line.

    (Lightning's own write goes through a temporary file in the system's temp folder; moving
    it onto another file system copies it, and a copy that fails leaves a truncated file.)
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any = None) -> None:
        path = Path(path)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            super().save_checkpoint(checkpoint, partial, storage_options)
            os.replace(partial, path)
        except (OSError, RuntimeError) as err:
            partial.unlink(missing_ok=True)
            reason = getattr(err, "strerror", None) or str(err).splitlines()[0]
            raise LitDigitsError(
                f"could not write checkpoint {path} ({reason}); the previous checkpoint, if any, is kept: "
                "free some space or pass a writable --trainer.default_root_dir"
            ) from err


class AtomicCheckpointIO(AtomicWrites, TorchCheckpointIO):
    """Lightning's checkpoint files, written atomically (``AtomicWrites``)."""


class AtomicXLACheckpointIO(AtomicWrites, XLACheckpointIO):
    """Lightning's checkpoint files from XLA devices, written atomically (``AtomicWrites``)."""


class SaveOnSigterm(Callback):
    """On SIGTERM (a scheduler's stop, ``kill``, ``docker stop``), Lightning ends training after
    the current step; this then writes ``last.ckpt`` where the run keeps it, so that
    ``fit --ckpt_path last`` resumes from that step. ``lit_digits`` exits with status 143."""

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        if not isinstance(exception, SIGTERMException) or not trainer.training:
            return
        folders = [Path(c.dirpath) for c in trainer.checkpoint_callbacks if getattr(c, "dirpath", None)]
        if folders:
            path = folders[0] / "last.ckpt"
            trainer.save_checkpoint(path)
            log.info(f"SIGTERM: saved step {trainer.global_step} to {path}; fit --ckpt_path last resumes from it")
