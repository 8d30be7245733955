"""Every use lit_digits makes of Lightning's and jsonargparse's private API, each where no public
API does what it needs: a private method overridden or called, a private attribute read or set,
an internal class subclassed. The rest of the package reaches Lightning and jsonargparse through
these functions and classes and their public API only, so setup.cfg pins the releases these were
tested on, and a release that moves one of them breaks here, and only here."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jsonargparse import Namespace
from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import Logger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from torch import Tensor


class CheckpointHyperParameters:
    """For a ``LightningCLI`` subclass: LightningCLI's reading of ``--ckpt_path``'s hyper-parameters
    (its private ``_parse_ckpt_path``, which hands the class paths a checkpoint names to jsonargparse,
    which imports them unchecked) replaced by the subclass's ``apply_checkpoint_hyper_parameters``."""

    def _parse_ckpt_path(self) -> None:
        self.apply_checkpoint_hyper_parameters()


def parse_without_validation(parse: Callable[..., Namespace], args: Any) -> Namespace:
    """``parser.parse_args`` / ``parse_object`` (``parse``) without the check of the result, which
    the CLI runs itself once it has filled in what the user left to it (a logger's ``save_dir``)."""
    return parse(args, _skip_validation=True)


class AppendingExperimentWriter(ExperimentWriter):
    """Lightning's CSV writer appending to a metrics.csv already in ``log_dir`` instead of deleting
    it: its check of the log folder (which deletes the file, and warns that it will) skipped, and
    its column list (``metrics_keys``) set to the file's ``header``, which also checks the file
    before anything is appended. Should new columns come, Lightning widens the header in place. A
    last line cut short of its line end (a killed write) is ended first, so that the first
    appended row stays a row of its own."""

    def __init__(self, log_dir: str, header: Callable[[Path], list[str]]) -> None:
        super().__init__(log_dir)
        path = Path(self.metrics_file_path)
        if path.is_file():
            self.metrics_keys = header(path)
            if not path.read_bytes().endswith(b"\n"):
                with path.open("ab") as file:
                    file.write(b"\r\n")  # csv's line end, as Lightning writes it

    def _check_log_dir_exists(self) -> None:
        pass


def cached_experiment(logger: Logger, make: Callable[[], Any]) -> Any:
    """A logger's experiment, made by ``make`` the first time, where Lightning's own loggers keep it."""
    if logger._experiment is None:
        logger._experiment = make()
    return logger._experiment


def kill_launched_processes(trainer: Trainer, signum: int) -> None:
    """Pass ``signum`` on to the processes Lightning's launcher started itself (none where torchrun,
    SLURM or a single process runs the fit), as Lightning's own SIGTERM handler does: its
    launcher's ``kill``, a method of the private ``_Launcher`` interface."""
    launcher = trainer.strategy.launcher
    if launcher is not None:
        launcher.kill(signum)


class HostComparedCheckpoint(ModelCheckpoint):
    """Lightning's ``ModelCheckpoint``, comparing the monitored figure with the best on the host:
    its ``_monitor_candidates`` moved to the CPU. On XLA each comparison would be a graph, and
    they differ between the first epoch (no best yet) and the later ones."""

    def _monitor_candidates(self, trainer: Trainer) -> dict[str, Tensor]:
        candidates = super()._monitor_candidates(trainer)
        return {name: value.cpu() if isinstance(value, Tensor) else value for name, value in candidates.items()}
