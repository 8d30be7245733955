"""Checkpoint files: written atomically, so a failed write keeps the last good one; found by name
(``best``, ``last``) or by run folder. (How one is read: ``lit_digits.checkpoints``.)"""

import os
from pathlib import Path
from typing import Any

from lightning.pytorch.plugins.io import TorchCheckpointIO, XLACheckpointIO

from lit_digits.errors import LitDigitsError


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


def newest_checkpoint(runs: Path, name: str) -> Path | None:
    """The newest ``name.ckpt`` (``best``, ``last``) of the run folders ``runs/version_N``, if any."""
    found = sorted(runs.glob(f"version_*/checkpoints/{name}.ckpt"), key=lambda path: path.stat().st_mtime)
    return found[-1] if found else None


def run_checkpoint(run: Path) -> tuple[Path, Path]:
    """(checkpoint, run folder) for a run folder (its ``checkpoints/best.ckpt``, else ``last.ckpt``)
    or a checkpoint inside one."""
    if run.is_file():
        return run, run.parent.parent
    for name in ("best.ckpt", "last.ckpt"):
        if (run / "checkpoints" / name).is_file():
            return run / "checkpoints" / name, run
    raise LitDigitsError(f"{run} is neither a checkpoint nor a run folder with checkpoints/best.ckpt or last.ckpt")
