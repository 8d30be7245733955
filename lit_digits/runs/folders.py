"""Run folders (``runs/<config>/version_N/``) that no later command deletes or overwrites."""

from typing import Any

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.cli import SaveConfigCallback
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment
from lightning.pytorch.utilities import rank_zero_only

from lit_digits.lightning_internals import AppendingExperimentWriter, cached_experiment
from lit_digits.runs.metrics_csv import header_for_appending
from lit_digits.runs.run_folder import RunFolder


class RunLogger(CSVLogger):
    """Lightning's ``CSVLogger`` made safe for earlier runs' files: ``version`` (a resumed run's)
    appends to that folder's metrics.csv instead of deleting it, once the file reads as sound
    (``header_for_appending``).

    The CLI builds it for a fit's run folder (``for_run``), which it then closes when the fit ends
    (``RunFolder.close``: releasing the hold, and removing a new folder if the fit failed before
    writing to it).
    """

    def __init__(self, save_dir: str, name: str, version: int | None = None) -> None:
        super().__init__(save_dir, name=name, version=version)
        self.run_folder: RunFolder | None = None

    @classmethod
    def for_run(cls, folder: RunFolder) -> "RunLogger":
        """The logger of ``folder``, closing it when the fit ends."""
        logger = cls(str(folder.runs.parent), name=folder.runs.name, version=folder.version)
        logger.run_folder = folder
        return logger

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        return cached_experiment(self, lambda: AppendingExperimentWriter(self.log_dir, header_for_appending))

    @rank_zero_only
    def finalize(self, status: str) -> None:
        super().finalize(status)
        if self.run_folder is not None:
            self.run_folder.close(failed=status == "failed")


class RunConfig(SaveConfigCallback):
    """Saves the fit's config as ``config.yaml`` in its run folder (``run_folder``, given by the
    CLI), or, when a resumed run continues a folder that has one, as ``config.resumeK.yaml``
    beside it. Saves nothing for validate, test and predict, which have no run folder."""

    def __init__(self, *args: Any, run_folder: RunFolder | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run_folder = run_folder

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if stage != "fit" or self.already_saved or self.run_folder is None:
            return
        if trainer.is_global_zero:
            folder = self.run_folder.path
            name, k = self.config_filename, 0
            while (folder / name).exists():
                k += 1
                name = f"config.resume{k}.yaml"
            self.parser.save(self.config, str(folder / name), skip_none=False, multifile=self.multifile)
        self.already_saved = True
