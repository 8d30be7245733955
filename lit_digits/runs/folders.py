"""Run folders (``runs/<config>/version_N/``) that no later command deletes or overwrites."""

import re
from fnmatch import fnmatch
from pathlib import Path

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.cli import SaveConfigCallback
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment
from lightning.pytorch.utilities import rank_zero_only

from lit_digits.errors import LitDigitsError
from lit_digits.lightning_internals import KeepingExperimentWriter, cached_experiment
from lit_digits.runs.hold import LOCK_FILE, RunHold
from lit_digits.runs.metrics_csv import header_for_appending

_VERSION = re.compile(r"version_(\d+)")
SETUP_FILES = ("config.yaml", "hparams.yaml", "mlflow_run_id.txt", "events.out.tfevents.*")
"""What a run writes before its first step (the last two: beside MLflow and TensorBoard loggers,
``run_loggers``); a new run that fails with nothing else is removed."""


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


class _AppendingWriter(KeepingExperimentWriter):
    """Lightning's CSV writer, minus deleting an existing metrics.csv: rows are appended to it,
    under its header (widened, should new columns come), once it reads as sound
    (``header_for_appending``); a last line cut short of its line end (a killed write) is ended
    first, so that the first appended row stays a row of its own."""

    def __init__(self, log_dir: str) -> None:
        super().__init__(log_dir)
        path = Path(self.metrics_file_path)
        if path.is_file():
            self.metrics_keys = header_for_appending(path)
            if not path.read_bytes().endswith(b"\n"):
                with path.open("ab") as file:
                    file.write(b"\r\n")  # csv's line end, as Lightning writes it


class RunLogger(CSVLogger):
    """Lightning's ``CSVLogger`` made safe for earlier runs' files.

    A new run reserves its ``version_N`` folder by creating it (when it first needs it: building
    the logger writes nothing), so concurrent runs get
    distinct folders; ``version`` (a resumed run's) appends to that folder's metrics.csv
    instead of deleting it; a new run that fails before its first logged step removes its folder
    (then empty, or holding only the config and hyperparameters written at setup).
    ``hold()`` makes this process the folder's one writer until ``finalize``.
    """

    def __init__(self, save_dir: str, name: str, version: int | None = None) -> None:
        super().__init__(save_dir, name=name, version=version)
        self.chosen_version = version
        self.reserved_folder = False
        self.run_hold: RunHold | None = None

    def hold(self) -> None:
        """Hold the run folder (``RunHold``: refused if another fit writes it), then check the
        metrics.csv that this run would append to. The CLI calls it on global rank 0 before fit
        writes anything; the other processes of a run write nothing of their own there."""
        if self.run_hold is not None:
            return
        folder = Path(self.log_dir)
        folder.mkdir(parents=True, exist_ok=True)
        hold = RunHold(folder)
        try:
            _ = self.experiment  # built now: its writer checks the metrics.csv this run appends to
        except LitDigitsError:
            hold.release()
            raise
        self.run_hold = hold

    @property
    def version(self) -> int:
        """The run's folder number: the one given, or a new one reserved when first asked for
        (by the process of rank 0; the others take Lightning's guess, and write nothing)."""
        if self.chosen_version is None and rank_zero_only.rank == 0:
            self.chosen_version = reserve_version(Path(self.root_dir))
            self.reserved_folder = True
        return self.chosen_version if self.chosen_version is not None else super().version

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        return cached_experiment(self, lambda: _AppendingWriter(log_dir=self.log_dir))

    @rank_zero_only
    def finalize(self, status: str) -> None:
        super().finalize(status)
        folder = Path(self.log_dir)
        ours = (*SETUP_FILES, LOCK_FILE)
        removable = status == "failed" and self.reserved_folder and folder.is_dir()
        files = list(folder.iterdir()) if removable else []
        empty = removable and all(any(fnmatch(path.name, name) for name in ours) for path in files)
        if empty:
            for path in files:  # the lock file too, while held, so no one takes over a folder about to go
                path.unlink()
        if self.run_hold is not None:
            self.run_hold.release()
            self.run_hold = None
        if empty:
            folder.rmdir()


class RunConfig(SaveConfigCallback):
    """Saves the fit's config as ``config.yaml`` in its run folder, or, when a resumed run
    continues a folder that has one, as ``config.resumeK.yaml`` beside it. Saves nothing
    for validate, test and predict, which create no run folder."""

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if stage != "fit" or self.already_saved or trainer.logger is None:
            return
        folder = Path(trainer.log_dir)  # every process asks: rank 0 broadcasts it
        if trainer.is_global_zero:
            name, k = self.config_filename, 0
            while (folder / name).exists():
                k += 1
                name = f"config.resume{k}.yaml"
            folder.mkdir(parents=True, exist_ok=True)
            self.parser.save(self.config, str(folder / name), skip_none=False, multifile=self.multifile)
        self.already_saved = True
