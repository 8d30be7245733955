"""Where a fit writes, and who decided: ``decide_run_folder``, the one place a run folder is chosen."""

import os
import re
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from lit_digits.runs.hold import LOCK_FILE, RunHold

RUN_DIR_VARIABLE = "LIT_DIGITS_RUN_DIR"
"""The run folder, in the environment of the processes that Lightning's launcher starts (each runs
the command line again): global rank 0 sets it, the others take it instead of choosing."""

RANK_VARIABLES = ("RANK", "LOCAL_RANK", "NODE_RANK", "GROUP_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK")
"""Where a process's launcher (torchrun, Lightning's own, SLURM, LSF) names its place in the run."""

SETUP_FILES = ("config.yaml", "hparams.yaml", "mlflow_run_id.txt", "events.out.tfevents.*")
"""What a run writes before its first step (the last two: beside MLflow and TensorBoard loggers,
``runs.loggers``); a new run that fails with nothing else is removed."""

_VERSION = re.compile(r"version_(\d+)")


@dataclass
class RunFolder:
    """A fit's folder ``runs/version_N`` (``runs``: ``runs/<config>``).

    ``version`` is None only on a process that torchrun or SLURM started with a rank above 0,
    until ``share`` (its loggers write nothing: Lightning's loggers write on global rank 0 only).
    ``hold`` is this process's hold of the folder (global rank 0's); ``reserved``: the folder
    was created for this fit, and is removed again if the fit fails before writing to it.
    """

    runs: Path
    version: int | None
    reserved: bool = False
    hold: RunHold | None = None

    @property
    def path(self) -> Path | None:
        return None if self.version is None else self.runs / f"version_{self.version}"

    def share(self, strategy: Any) -> Path:
        """Global rank 0's folder, on every process: the run's one broadcast of it (``strategy``: the
        Trainer's, once its processes have met). Every process calls it, at the same point."""
        path = strategy.broadcast(str(self.path) if self.path is not None else None)
        self.runs, self.version = Path(path).parent, int(_VERSION.fullmatch(Path(path).name).group(1))
        return Path(path)

    def close(self, failed: bool) -> None:
        """The fit is over: a folder reserved for it that holds nothing but what a run writes at
        setup is removed if it ``failed``; the hold is released. A second call does nothing."""
        folder = self.path
        removable = failed and self.reserved and folder is not None and folder.is_dir()
        files = list(folder.iterdir()) if removable else []
        empty = removable and all(any(fnmatch(p.name, name) for name in (*SETUP_FILES, LOCK_FILE)) for p in files)
        if empty:
            for path in files:  # the lock file too, while held, so no one takes over a folder about to go
                path.unlink()
        if self.hold is not None:
            self.hold.release()
            self.hold = None
            os.environ.pop(RUN_DIR_VARIABLE, None)
        if empty:
            folder.rmdir()
        self.reserved = False


def starts_as_global_rank_zero() -> bool:
    """Whether this process's launcher made it global rank 0 (or it runs alone): every rank it names is 0."""
    return all(os.environ.get(name, "0") == "0" for name in RANK_VARIABLES)


def decide_run_folder(runs: Path, version: int | None) -> RunFolder:
    """The folder a fit writes to: ``runs/version_<version>`` (a resumed or pinned run), or a new
    ``version_N`` for ``version`` None. Called once per process, before anything that writes there
    is built, each of which is then given it.

    Global rank 0 decides: it reserves a new folder (by creating it, so concurrent fits get distinct
    ones) and holds it (``RunHold``: refused if another fit writes it) at once, and puts it in the
    environment, where the processes Lightning's launcher starts find it. A process that torchrun or
    SLURM started with another rank learns it from ``RunFolder.share`` when the processes meet.

    Raises:
        LitDigitsError: another fit holds the folder.
    """
    if not starts_as_global_rank_zero():
        inherited = os.environ.get(RUN_DIR_VARIABLE)
        if inherited and os.environ.get("RANK") is None:  # started by Lightning's launcher, from rank 0's
            return RunFolder(Path(inherited).parent, int(_VERSION.fullmatch(Path(inherited).name).group(1)))
        return RunFolder(runs, None)
    reserved = version is None
    if version is None:
        version = reserve_version(runs)
    folder = RunFolder(runs, version, reserved)
    folder.path.mkdir(parents=True, exist_ok=True)
    try:
        folder.hold = RunHold(folder.path)
    except BaseException:
        folder.close(failed=True)
        raise
    os.environ[RUN_DIR_VARIABLE] = str(folder.path)
    return folder


def reserve_version(folder: Path) -> int:
    """The first free ``version_N`` under ``folder``, created here so that no concurrent run takes it too."""
    folder.mkdir(parents=True, exist_ok=True)
    taken = [int(m.group(1)) for p in folder.iterdir() if (m := _VERSION.fullmatch(p.name))]
    version = max(taken, default=-1) + 1
    while True:
        try:
            (folder / f"version_{version}").mkdir()
            return version
        except FileExistsError:
            version += 1


def run_version(checkpoint: Path, folder: Path) -> int | None:
    """N, if ``checkpoint`` is in ``folder/version_N/checkpoints/``; else None."""
    parent = checkpoint.resolve().parent
    match = _VERSION.fullmatch(parent.parent.name)
    return (
        int(match.group(1))
        if match and parent.name == "checkpoints" and parent.parent.parent == folder.resolve()
        else None
    )
