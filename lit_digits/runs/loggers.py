"""The loggers a fit is given (``--trainer.logger``), pointed into its run folder.

Whatever ``--trainer.logger`` names, a fit keeps its run folder ``runs/<config>/version_N/``:
lit_digits' own ``RunLogger`` comes first (its metrics.csv and checkpoints are what ``--ckpt_path
best|last`` and ``report`` read), the named loggers after it. A setting a logger is left at its
default is filled in: TensorBoard's and CSV's ``save_dir``/``name``/``version`` make them write
into the run folder itself; MLflow's run goes to the experiment named after the config, in a file
store beside the run folders (``runs/mlruns``) unless a tracking URI is given, and its run id is
kept in the run folder (``mlflow_run_id.txt``), so that a resumed fit continues the same MLflow run.
"""

import importlib
import inspect
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jsonargparse import Namespace
from lightning.pytorch.loggers import CSVLogger, Logger, MLFlowLogger, TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only

from lit_digits.errors import LitDigitsError
from lit_digits.lightning_internals import has_version, set_version

FOLDER_LOGGERS = (TensorBoardLogger, CSVLogger)
"""Lightning's loggers that write into ``save_dir/name/version_N``, as ``RunLogger`` does."""

MLFLOW_RUN_ID = "mlflow_run_id.txt"
"""The run folder's record of its MLflow run, read when the fit is resumed."""


def cannot_start(logger: str, cause: BaseException) -> LitDigitsError:
    """The one-line error for a logger that could not start (``logger``: its class name)."""
    reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return LitDigitsError(
        f"--trainer.logger {logger} could not start: {reason}; point it at a folder it can write, or install "
        "its package (pip install 'lit_digits[loggers]' installs TensorBoard and MLflow)"
    )


def logger_specs(trainer_config: Any) -> list[Namespace]:
    """The ``class_path``/``init_args`` of each logger ``--trainer.logger`` names (none for true, false)."""
    value = trainer_config.get("logger")
    specs = value if isinstance(value, list) else [value]
    return [spec for spec in specs if isinstance(spec, Namespace) and spec.get("class_path")]


def fill_in(specs: list[Namespace], runs: Path, version: int | None) -> list[Namespace]:
    """Point each logger at ``runs`` (``runs/<config>``) wherever its settings are the defaults;
    ``version``: the resumed run's, None for a new run (its number is known only once reserved).
    Returns the specs to keep: a CSVLogger left at all its defaults is the run's own metrics.csv."""
    kept = []
    for spec in specs:
        module, _, name = spec.class_path.rpartition(".")
        logger_class = getattr(importlib.import_module(module), name)
        defaults = {key: param.default for key, param in inspect.signature(logger_class).parameters.items()}
        places = {key: value for key, value in _places(logger_class, runs, version).items()
                  if key in spec.init_args and spec.init_args[key] in (None, defaults.get(key))}  # fmt: skip
        for key, value in places.items():
            spec.init_args[key] = value
        if logger_class is CSVLogger and places.keys() == {"save_dir", "name", "version"}:
            continue
        kept.append(spec)
        uri = spec.init_args.get("tracking_uri") or "file:"
        if issubclass(logger_class, MLFlowLogger) and uri.startswith("file:"):
            # MLflow 3 refuses its file store (in maintenance) unless asked; it is the one that needs no server
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return kept


def _places(logger_class: type, runs: Path, version: int | None) -> dict[str, Any]:
    if issubclass(logger_class, FOLDER_LOGGERS):
        return {"save_dir": str(runs.parent), "name": runs.name, "version": version}
    if issubclass(logger_class, MLFlowLogger):
        record = runs / f"version_{version}" / MLFLOW_RUN_ID
        run_id = record.read_text().strip() if version is not None and record.is_file() else None
        return {"experiment_name": runs.name, "save_dir": str(runs.parent / "mlruns"), "run_id": run_id}
    return {}


def with_run_logger(run: CSVLogger, loggers: Logger | Iterable[Logger]) -> list[Logger]:
    """``run`` first (the trainer's ``log_dir`` and checkpoint folder are its), then ``loggers``; where
    ``loggers`` name a run folder of their own (a ``RunLogger`` of ``run``'s class), that one takes
    ``run``'s place, so that the folder the user pinned is the one the fit holds and writes."""
    named = [loggers] if isinstance(loggers, Logger) else list(loggers)
    pinned = [logger for logger in named if isinstance(logger, type(run))]
    if pinned:
        return [pinned[0], *(logger for logger in named if logger is not pinned[0])]
    return [run, *named]


def start(loggers: list[Logger]) -> None:
    """Reserve the run folder of ``loggers[0]`` (the ``RunLogger``), give the folder loggers its
    version, and start every logger now, so that one that cannot (a missing package, a store it
    cannot write) stops the fit in one line before anything is written."""
    run, *others = loggers
    if not others:
        return
    version = run.version  # rank 0 reserves the folder; the others write nothing
    for logger in others:
        if isinstance(logger, FOLDER_LOGGERS) and not has_version(logger):
            set_version(logger, version)
        try:
            _ = logger.experiment  # on rank 0; the others get a stand-in
        except Exception as err:  # whatever stops it: the user's logger settings or environment
            run.finalize("failed")  # removes the reserved, still empty folder
            raise cannot_start(type(logger).__name__, err) from err
    _record_mlflow_runs(others, Path(run.log_dir))


@rank_zero_only
def _record_mlflow_runs(loggers: list[Logger], folder: Path) -> None:
    """Write each MLflow run's id into the run folder, and the folder into the run (tag ``lit_digits.run_dir``)."""
    for logger in loggers:
        if isinstance(logger, MLFlowLogger) and logger.run_id:
            (folder / MLFLOW_RUN_ID).write_text(logger.run_id + "\n")
            logger.experiment.set_tag(logger.run_id, "lit_digits.run_dir", str(folder.resolve()))
