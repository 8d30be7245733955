"""The loggers a fit is given (``--trainer.logger``), pointed into its run folder.

Whatever ``--trainer.logger`` names, a fit keeps its run folder ``runs/<config>/version_N/``:
lit_digits' own ``RunLogger`` comes first (its metrics.csv and checkpoints are what ``--ckpt_path
best|last`` and ``report`` read), the named loggers after it; a ``RunLogger`` named there says
which folder that is. A setting a logger is left at its default is filled in while the command
line is parsed: TensorBoard's and CSV's ``save_dir``/``name``, and ``version`` once the CLI has
decided the folder (``runs.run_folder``), before the loggers are built, make them write into the
run folder itself; MLflow's run goes to the experiment named after the config, in a file
store beside the run folders (``runs/mlruns``) unless a tracking URI is given, and its run id is
kept in the run folder (``mlflow_run_id.txt``), so that a resumed fit continues the same MLflow run.
"""

import importlib
import inspect
import os
from pathlib import Path
from typing import Any

from jsonargparse import Namespace
from lightning.pytorch.loggers import CSVLogger, Logger, MLFlowLogger, TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only

from lit_digits.errors import LitDigitsError
from lit_digits.runs.folders import RunLogger

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


def pinned_run(specs: list[Namespace]) -> tuple[Path, int | None] | None:
    """``runs/<name>`` and the version (None: a new one) of the run folder a ``RunLogger`` among
    ``specs`` pins, if one does: the fit's folder is then that one."""
    for spec in specs:
        if issubclass(_class_of(spec), RunLogger):
            args = spec.init_args
            return Path(args.get("save_dir")) / args.get("name"), args.get("version")
    return None


def fill_in(specs: list[Namespace], runs: Path, version: int | None) -> tuple[list[Namespace], list[Namespace]]:
    """Point each logger at ``runs`` (``runs/<config>``) wherever its settings are the defaults;
    ``version``: the resumed or pinned run's, None for a new run (its number is known once the CLI
    has decided the folder). Returns the specs to build (not a ``RunLogger``: the CLI builds the
    run's own; nor a CSVLogger left at all its defaults, which is the run's own metrics.csv), and
    those of them to be given the new run's number."""
    kept, numbered = [], []
    for spec in specs:
        logger_class = _class_of(spec)
        defaults = {key: param.default for key, param in inspect.signature(logger_class).parameters.items()}
        places = {key: value for key, value in _places(logger_class, runs, version).items()
                  if key in spec.init_args and spec.init_args[key] in (None, defaults.get(key))}  # fmt: skip
        for key, value in places.items():
            spec.init_args[key] = value
        if issubclass(logger_class, RunLogger) or (
            logger_class is CSVLogger and places.keys() == {"save_dir", "name", "version"}
        ):
            continue
        kept.append(spec)
        if "version" in places and version is None:
            numbered.append(spec)
        uri = spec.init_args.get("tracking_uri") or "file:"
        if issubclass(logger_class, MLFlowLogger) and uri.startswith("file:"):
            # MLflow 3 refuses its file store (in maintenance) unless asked; it is the one that needs no server
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return kept, numbered


def _class_of(spec: Namespace) -> type:
    module, _, name = spec.class_path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _places(logger_class: type, runs: Path, version: int | None) -> dict[str, Any]:
    if issubclass(logger_class, FOLDER_LOGGERS):
        return {"save_dir": str(runs.parent), "name": runs.name, "version": version}
    if issubclass(logger_class, MLFlowLogger):
        record = runs / f"version_{version}" / MLFLOW_RUN_ID
        run_id = record.read_text().strip() if version is not None and record.is_file() else None
        return {"experiment_name": runs.name, "save_dir": str(runs.parent / "mlruns"), "run_id": run_id}
    return {}


def start(run: RunLogger, others: list[Logger]) -> None:
    """Start the run's loggers now, its own ``run`` first (whose writer checks the metrics.csv a
    resumed run appends to), so that one that cannot (a damaged metrics.csv, a missing package, a
    store it cannot write) stops the fit in one line before anything is written."""
    try:
        _ = run.experiment  # on rank 0; the others get a stand-in
        for logger in others:
            try:
                _ = logger.experiment
            except Exception as err:  # whatever stops it: the user's logger settings or environment
                raise cannot_start(type(logger).__name__, err) from err
    except BaseException:
        if run.run_folder is not None:
            run.run_folder.close(failed=True)  # removes a new, still empty folder
        raise
    if run.run_folder is not None and run.run_folder.path is not None:
        _record_mlflow_runs(others, run.run_folder.path)


@rank_zero_only
def _record_mlflow_runs(loggers: list[Logger], folder: Path) -> None:
    """Write each MLflow run's id into the run folder, and the folder into the run (tag ``lit_digits.run_dir``)."""
    for logger in loggers:
        if isinstance(logger, MLFlowLogger) and logger.run_id:
            (folder / MLFLOW_RUN_ID).write_text(logger.run_id + "\n")
            logger.experiment.set_tag(logger.run_id, "lit_digits.run_dir", str(folder.resolve()))
