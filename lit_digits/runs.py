"""Run folders (``runs/<config>/version_N/``) that no later command deletes or overwrites."""

import csv
import os
import re
from fnmatch import fnmatch
from pathlib import Path

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.cli import SaveConfigCallback
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment
from lightning.pytorch.utilities import rank_zero_only

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


class _AppendingWriter(ExperimentWriter):
    """Lightning's CSV writer, minus deleting an existing metrics.csv: rows are appended to it,
    under its header (widened, should new columns come)."""

    def __init__(self, log_dir: str) -> None:
        super().__init__(log_dir)
        if os.path.isfile(self.metrics_file_path):
            with open(self.metrics_file_path, newline="") as file:
                self.metrics_keys = next(csv.reader(file), [])

    def _check_log_dir_exists(self) -> None:
        pass


class RunLogger(CSVLogger):
    """Lightning's ``CSVLogger`` made safe for earlier runs' files.

    A new run reserves its ``version_N`` folder by creating it (when it first needs it: building
    the logger writes nothing), so concurrent runs get
    distinct folders; ``version`` (a resumed run's) appends to that folder's metrics.csv
    instead of deleting it; a new run that fails before its first logged step removes its folder
    (then empty, or holding only the config and hyperparameters written at setup).
    """

    def __init__(self, save_dir: str, name: str, version: int | None = None) -> None:
        super().__init__(save_dir, name=name, version=version)
        self.chosen_version = version
        self.reserved_folder = False

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
        if self._experiment is None:
            self._experiment = _AppendingWriter(log_dir=self.log_dir)
        return self._experiment

    @rank_zero_only
    def finalize(self, status: str) -> None:
        super().finalize(status)
        folder = Path(self.log_dir)
        if status != "failed" or not self.reserved_folder or not folder.is_dir():
            return
        files = list(folder.iterdir())
        if all(any(fnmatch(path.name, name) for name in SETUP_FILES) for path in files):
            for path in files:
                path.unlink()
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
