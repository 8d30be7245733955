"""The ``lit_digits`` command: Lightning's CLI over the package's models and data modules."""

import logging
import sys
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, Trainer
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.plugins.io import TorchCheckpointIO, XLACheckpointIO
from lightning.pytorch.utilities.exceptions import MisconfigurationException, SIGTERMException

from lit_digits import report
from lit_digits.accelerators import resolve_accelerator, resolve_precision, runs_on_xla
from lit_digits.checkpoints import SIGTERM_EXIT_CODE, AtomicCheckpointIO, SaveOnSigterm
from lit_digits.data import ImageDataModule
from lit_digits.errors import LitDigitsError
from lit_digits.models import ImageClassifier
from lit_digits.predict import PrintPredictions
from lit_digits.progress import TimedProgressBar
from lit_digits.xla_compiles import XLAGraphCheck


class LitDigitsCLI(LightningCLI):
    """``lit_digits fit|validate|test|predict --config configs/NAME.yaml``.

    A recipe's config holds what makes it that recipe; what every run shares is here:
    ``trainer_defaults`` (one device, seed 0), the callbacks added to every run
    (``run_callbacks``), and a CSV logger writing ``runs/<config name>/version_N/`` (under
    ``--trainer.default_root_dir`` if given) unless ``--trainer.logger`` says otherwise.

    Checkpoints are written atomically (``AtomicCheckpointIO``), and SIGTERM saves
    ``last.ckpt`` and exits with status 143 (``SaveOnSigterm``).

    Models and data modules are picked by name (``--model DavidNet``) or ``class_path``.
    ``--ckpt_path best`` and ``--ckpt_path last`` find the newest ``best.ckpt`` /
    ``last.ckpt`` of earlier runs of the same config, so they work in a new process.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(
            ImageClassifier,
            ImageDataModule,
            *args,
            subclass_mode_model=True,
            subclass_mode_data=True,
            seed_everything_default=0,
            trainer_defaults={"devices": 1},
            parser_kwargs={"epilog": "Pictures of a run or a recipe: lit_digits report --help"},
            **kwargs,
        )

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        trainer = self._get(self.config_init, "trainer", default={})
        kwargs.setdefault("accelerator", resolve_accelerator(trainer.get("accelerator")))
        kwargs.setdefault("precision", resolve_precision(kwargs["accelerator"], trainer.get("precision")))
        if trainer.get("logger") in (None, True):
            kwargs.setdefault("logger", CSVLogger(trainer.get("default_root_dir") or "runs", name=self.run_name()))
        xla = runs_on_xla(kwargs["accelerator"])
        if not trainer.get("plugins"):
            kwargs.setdefault("plugins", [AtomicCheckpointIO(XLACheckpointIO() if xla else TorchCheckpointIO())])
        callbacks = run_callbacks(xla, trainer.get("enable_progress_bar") in (None, True))
        self.trainer_defaults = {**self.trainer_defaults, "callbacks": callbacks}
        return super().instantiate_trainer(**kwargs)

    def run_name(self) -> str:
        """The config file's name (``configs/cifar.yaml``: ``cifar``), or the model's class without one."""
        configs = self._get(self.config, "config") or []
        return Path(str(configs[-1])).stem if configs else type(self.model).__name__.lower()

    def before_fit(self) -> None:
        """Resume: ``--ckpt_path last`` continues the newest earlier run, if there is one."""
        last = self._find_checkpoint("last") if self._ckpt_path() == "last" else None
        if last is not None:
            self._set_ckpt_path(last)

    def before_validate(self) -> None:
        self._resolve_checkpoint()

    def before_test(self) -> None:
        self._resolve_checkpoint()

    def before_predict(self) -> None:
        if self._ckpt_path() is None:
            raise LitDigitsError("predict needs a trained model: pass --ckpt_path PATH (or best, last)")
        self._resolve_checkpoint()
        self.trainer.callbacks.append(PrintPredictions())

    def _ckpt_path(self) -> str | None:
        return self.config_init[self.subcommand].get("ckpt_path")

    def _set_ckpt_path(self, path: Path) -> None:
        self.config_init[self.subcommand]["ckpt_path"] = str(path)

    def _resolve_checkpoint(self) -> None:
        """Turn ``best``/``last`` into a file of an earlier run; check a given path exists."""
        ckpt_path = self._ckpt_path()
        if ckpt_path in ("best", "last"):
            found = self._find_checkpoint(ckpt_path)
            if found is None:
                raise LitDigitsError(
                    f"no {ckpt_path}.ckpt under {self._checkpoint_root()}: run fit with this config first, "
                    "or pass --ckpt_path PATH"
                )
            self._set_ckpt_path(found)
        elif ckpt_path is not None and "://" not in ckpt_path and not Path(ckpt_path).is_file():
            raise LitDigitsError(f"checkpoint {ckpt_path} not found; pass an existing file, best or last")

    def _checkpoint_root(self) -> Path:
        callback = self.trainer.checkpoint_callback
        if callback is not None and callback.dirpath:
            return Path(callback.dirpath)
        logger = self.trainer.logger
        return Path(getattr(logger, "root_dir", None) or self.trainer.default_root_dir)

    def _find_checkpoint(self, name: str) -> Path | None:
        found = list(self._checkpoint_root().glob(f"**/{name}.ckpt"))
        return max(found, key=lambda path: path.stat().st_mtime) if found else None


def run_callbacks(xla: bool, progress_bar: bool) -> list[Callback]:
    """The callbacks of every run, added to the config's own: ``best.ckpt`` (best ``val_acc``)
    and ``last.ckpt`` (after every epoch, and when SIGTERM stops training; ``fit --ckpt_path
    last`` resumes from it), the learning rate per step in metrics.csv, on XLA the compile count per epoch, and the
    progress bar unless it is turned off. Each callback costs every step some host time,
    so there is nothing here a run does not use."""
    callbacks: list[Callback] = [
        ModelCheckpoint(monitor="val_acc", mode="max", filename="best"),
        # Not save_last on the one above: Lightning writes that copy only when a top-k file is
        # saved, so an epoch that does not improve val_acc would leave last.ckpt behind.
        ModelCheckpoint(filename="last"),
        LearningRateMonitor(logging_interval="step"),
        SaveOnSigterm(),
    ]
    if xla:
        callbacks.append(XLAGraphCheck())
    if progress_bar:
        callbacks.append(TimedProgressBar())
    return callbacks


def main(args: list[str] | None = None) -> None:
    """Entry point of ``lit_digits`` and ``python -m lit_digits``."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    package_log = logging.getLogger("lit_digits")
    package_log.addHandler(handler)
    package_log.setLevel(logging.INFO)
    package_log.propagate = False
    argv = sys.argv[1:] if args is None else args
    try:
        if argv[:1] == ["report"]:
            report.main(argv[1:])
        else:
            LitDigitsCLI(args=args)
    except LitDigitsError as err:
        message = str(err)
    except ValueError as err:  # jsonargparse wraps what a class refused while it was built from the config
        cause = _user_error(err)
        if cause is None:
            raise
        message = str(cause)
    except SIGTERMException:  # Lightning stopped training after the step SIGTERM arrived in
        print(f"lit_digits: stopped by SIGTERM (exit status {SIGTERM_EXIT_CODE})", file=sys.stderr)
        sys.exit(SIGTERM_EXIT_CODE)
    except MisconfigurationException as err:  # Lightning's: settings that do not fit together
        message = f"{err} Change one of the settings it names; --print_config shows them all."
    else:
        return
    print(f"lit_digits: error: {message}", file=sys.stderr)
    sys.exit(1)


def _user_error(err: BaseException) -> LitDigitsError | None:
    """The ``LitDigitsError`` among the causes of ``err``, if any."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, LitDigitsError):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None
