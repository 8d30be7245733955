"""``LitDigitsCLI``: Lightning's CLI over the package's recipes, with a run folder for every fit."""

import logging
import sys
from pathlib import Path
from typing import Any, Literal

from jsonargparse import ArgumentError, Namespace
from lightning.pytorch import Callback, Trainer
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.loggers import CSVLogger

from lit_digits.accelerators import resolve_accelerator, runs_on_xla
from lit_digits.callbacks.epoch_lines import EpochLines
from lit_digits.callbacks.model_summary import ParameterSummary
from lit_digits.callbacks.predictions import PrintPredictions
from lit_digits.callbacks.progress import TimedProgressBar
from lit_digits.callbacks.run_checkpoints import RunCheckpoints
from lit_digits.callbacks.xla_graphs import XLAGraphCheck
from lit_digits.checkpoints import CheckedCheckpoint, named_modules
from lit_digits.cli.arguments import check_config_files, check_seed, check_trainer_settings
from lit_digits.cli.commands import COMMANDS
from lit_digits.cli.fit_summary import fit_summary
from lit_digits.cli.parser_errors import OneLineParser, one_line
from lit_digits.data import DEFAULT_DATA_DIR, ImageDataModule
from lit_digits.errors import LitDigitsError, cause_of
from lit_digits.lightning_internals import CheckpointHyperParameters, parse_without_validation
from lit_digits.models import ImageClassifier
from lit_digits.models.compatibility import LATER_ARGUMENTS
from lit_digits.precision import RECIPE_PRECISIONS, choose_precision, recorded_precision
from lit_digits.runs.checkpoint_files import AtomicCheckpointIO, AtomicXLACheckpointIO, newest_checkpoint
from lit_digits.runs.folders import RunConfig, RunLogger
from lit_digits.runs.loggers import cannot_start, fill_in, logger_specs, pinned_run, start
from lit_digits.runs.run_folder import RunFolder, decide_run_folder, run_version

log = logging.getLogger(__name__)

EPILOG = (
    "Pictures of a run or a recipe: lit_digits report --help. A run's model as an HTTP service: lit_digits serve --help"
)
"""The commands besides LightningCLI's, at the end of ``lit_digits --help``."""


class LitDigitsCLI(CheckpointHyperParameters, LightningCLI):
    """``lit_digits fit|validate|test|predict --config configs/NAME.yaml``.

    A recipe's config holds what makes it that recipe; what every run shares is here:
    ``trainer_defaults`` (one device, seed 0), the callbacks added to every run
    (``run_callbacks``), and for ``fit`` a run folder ``runs/<config name>/version_N/`` (under
    ``--trainer.default_root_dir`` if given), decided once before anything that writes there is
    built (``instantiate_classes``, ``decide_run_folder``), then given to each: ``RunLogger``,
    the loggers ``--trainer.logger`` names, ``RunConfig``, ``RunCheckpoints``, the lines at the
    end of the fit. ``validate``, ``test`` and ``predict`` write none; nor does
    ``LitDigitsCLI(run=False)`` (built to fit from Python) with ``--trainer.logger false``.

    Nothing overwrites an earlier run's files: checkpoints are written atomically
    (``AtomicCheckpointIO``), concurrent fits get distinct folders, ``fit --ckpt_path last``
    continues the run in its own folder, appending to its metrics.csv, and a run has one writer
    at a time (``RunHold``, taken when the folder is decided). SIGTERM and Ctrl-C end training between two steps, save
    ``last.ckpt`` and exit with status 143 or 130 (``RunCheckpoints``).

    Models and data modules are picked by name (``--model DavidNet``) or ``class_path``.
    ``--ckpt_path best`` and ``--ckpt_path last`` name the newest ``best.ckpt`` /
    ``last.ckpt`` of earlier runs of the same config (or model), resolved while the
    arguments are parsed, so the model is built with the checkpoint's settings, as with a path.
    A checkpoint may name only the classes ``lit_digits.checkpoints`` allows, among them those of
    the modules this run's config and command line name, and of ``--trusted_modules``.

    A value the parser refuses is one line (``OneLineParser``).
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("save_config_callback", RunConfig)
        self.checkpoint: CheckedCheckpoint | None = None
        self.run_place: tuple[Path, int | None] | None = None  # a pinned RunLogger's, else runs_dir()'s
        self.numbered_loggers: list[Namespace] = []  # the logger specs to be given a new run's number
        self.run_folder: RunFolder | None = None
        super().__init__(
            ImageClassifier,
            ImageDataModule,
            *args,
            subclass_mode_model=True,
            subclass_mode_data=True,
            seed_everything_default=0,
            trainer_defaults={"devices": 1},
            parser_class=OneLineParser,
            parser_kwargs={
                "prog": "lit_digits",
                "epilog": "Every command, report among them: lit_digits --help",
                **{name: {"description": COMMANDS[name]} for name in self.subcommands()},
            },
            **kwargs,
        )

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_argument(
            "--trusted_modules",
            type=list[str],
            default=[],
            help="packages of your own whose classes a checkpoint may name (besides lit_digits', torch's and "
            "torchvision's, and the modules this config names)",
        )
        parser.add_argument(
            "--recipe_precision",
            type=Literal[RECIPE_PRECISIONS] | None,
            default=None,
            help="The precision the recipe was designed for, used where the device runs it natively (bf16-mixed: "
            "CPUs with AVX-512 BF16 or AMX, CUDA GPUs from Ampere on; 16-mixed on older CUDA GPUs), else 32-true. "
            "--trainer.precision overrides it everywhere. Default: 32-true, or a resumed checkpoint's.",
        )

    def parse_arguments(self, parser: LightningArgumentParser, args: Any) -> None:
        """Parse, then turn ``--ckpt_path best|last`` into that file of the newest earlier run,
        and check the file, before Lightning reads the model's settings from it; point fit's
        loggers into its run folder (``runs.loggers``), then check the whole config."""
        if args is None or isinstance(args, list):
            check_config_files(sys.argv[1:] if args is None else args)
        parse = parser.parse_object if isinstance(args, (dict, Namespace)) else parser.parse_args
        self.config = parse_without_validation(parse, args)  # a logger's save_dir may be lit_digits' to fill
        check_seed(self._parsed().get("seed_everything"))
        subcommand = self.config.get("subcommand")
        if subcommand:
            self._resolve_checkpoint(self.config[subcommand], subcommand)
        if subcommand == "fit":
            self._place_loggers(self.config.fit.trainer)
        try:
            parser.validate(self.config)
        except (TypeError, ValueError, KeyError) as err:
            parser.error(str(err), err)

    def _place_loggers(self, trainer: Namespace) -> None:
        """``--trainer.logger``'s loggers, with the run folder's place where their settings are the
        defaults; a ``RunLogger`` among them names the run folder (``run_place``), and is built by the CLI."""
        specs = logger_specs(trainer)
        self.run_place = pinned_run(specs)
        if specs:
            kept, self.numbered_loggers = fill_in(specs, *self._run_place())
            trainer.logger = (kept if isinstance(trainer.logger, list) else kept[0]) if kept else None

    def _run_place(self) -> tuple[Path, int | None]:
        """``runs/<name>`` and the version (None: a new one) of this fit's folder."""
        return self.run_place or (self.runs_dir(), self._resumed_version())

    def instantiate_classes(self) -> None:
        """Decide the fit's run folder (``decide_run_folder``: here, once, before anything that
        writes there is built), give the loggers a new run's number, and build the model, data,
        loggers and Trainer; should that fail, the folder is closed (a new one removed)."""
        fitting = self.subcommand in ("fit", None)  # None: LitDigitsCLI(run=False), built to fit from Python
        if fitting and self._parsed().get("trainer", {}).get("logger") is not False:
            self.run_folder = decide_run_folder(*self._run_place())
            for spec in self.numbered_loggers:
                spec.init_args.version = self.run_folder.version
        try:
            self._instantiate_classes()
        except BaseException:
            if self.run_folder is not None:
                self.run_folder.close(failed=True)
            raise

    def _instantiate_classes(self) -> None:
        """A logger that cannot be built is one line (``cannot_start``)."""
        try:
            super().instantiate_classes()
        except (ImportError, OSError, ValueError, TypeError) as err:  # jsonargparse wraps what a class raised
            cause = cause_of(err, (ImportError, OSError))  # a logger's package, or the store it was pointed at
            specs = logger_specs(self._parsed().get("trainer", {}))
            if cause is None or not specs:
                raise
            raise cannot_start(" ".join(spec.class_path.rpartition(".")[2] for spec in specs), cause) from err

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        config = self._parsed(self.config_init)
        trainer = config.get("trainer", {})
        check_trainer_settings(trainer)
        kwargs.setdefault("accelerator", resolve_accelerator(trainer.get("accelerator")))
        # how the resumed (or evaluated) run trained, from the checkpoint read and checked while parsing
        trained = recorded_precision(self.checkpoint.contents if self.checkpoint else None)
        precision = choose_precision(
            kwargs["accelerator"], trainer.get("precision"), config.get("recipe_precision"), trained
        )
        precision.announce()
        kwargs["precision"] = precision.precision
        fitting = self.subcommand in ("fit", None)  # None: LitDigitsCLI(run=False), built to fit from Python
        named = trainer.get("logger")
        if self.run_folder is not None:  # the run folder's logger, then those named
            others = [] if named in (None, True) else named if isinstance(named, list) else [named]
            kwargs.setdefault("logger", [RunLogger.for_run(self.run_folder), *others])
        elif named in (None, True):  # validate, test and predict write no run folder
            kwargs.setdefault("logger", False)
        elif self.subcommand == "fit" and named is False:
            raise LitDigitsError(
                "fit keeps its checkpoints in a run folder, which --trainer.logger false would leave it without "
                "(and a second run would overwrite the first one's checkpoints); leave --trainer.logger unset, "
                "or pass another logger"
            )
        xla = runs_on_xla(kwargs["accelerator"])
        if not trainer.get("plugins"):
            kwargs.setdefault("plugins", [AtomicXLACheckpointIO() if xla else AtomicCheckpointIO()])
        shown = {name: trainer.get(f"enable_{name}") in (None, True) for name in ("progress_bar", "model_summary")}
        kwargs["enable_model_summary"] = False  # ParameterSummary, if shown, in place of Lightning's
        bar_stream = sys.stderr if self.subcommand == "predict" else sys.stdout  # predict's results alone on stdout
        callbacks = run_callbacks(
            xla, self.run_folder, precision.record() if fitting else None, **shown, terminal=bar_stream.isatty()
        )
        self.trainer_defaults = {**self.trainer_defaults, "callbacks": callbacks}
        if isinstance(self.save_config_callback, type) and issubclass(self.save_config_callback, RunConfig):
            self.save_config_kwargs = {**self.save_config_kwargs, "run_folder": self.run_folder}
        try:
            built = super().instantiate_trainer(**kwargs)
        except (ValueError, TypeError) as err:  # Lightning's refusal of a setting, or of two that clash
            raise LitDigitsError(
                f"{str(err).rstrip('.')}. Change that --trainer setting; --print_config shows them all."
            ) from err
        for logger in built.loggers:
            lightnings_csv = isinstance(logger, CSVLogger) and not isinstance(logger, RunLogger)
            if fitting and lightnings_csv and (Path(logger.log_dir) / "metrics.csv").exists():
                raise LitDigitsError(
                    f"{logger.log_dir} already holds a run, whose metrics.csv Lightning's CSVLogger would delete; "
                    "pick a new version, or leave --trainer.logger unset: fit --ckpt_path last then continues "
                    "the newest run in its own folder"
                )
        return built

    def _parsed(self, config: Namespace | None = None) -> Any:
        """The subcommand's part of ``config`` (by default the parsed ``self.config``; the whole of
        it without a subcommand, as with ``run=False``)."""
        config = self.config if config is None else config
        subcommand = config.get("subcommand")
        return config[subcommand] if subcommand else config

    def run_name(self) -> str:
        """The config file's name (``configs/cifar.yaml``: ``cifar``), or the model's class without one."""
        config = self._parsed()
        configs = config.get("config") or []
        if configs:
            return Path(str(configs[-1])).stem
        model = config.get("model")
        class_path = model.get("class_path", "") if hasattr(model, "get") else ""
        return class_path.rsplit(".", 1)[-1].lower() or "model"

    def runs_dir(self) -> Path:
        """``runs/<run name>`` (under ``--trainer.default_root_dir`` if given): this config's run folders."""
        config = self._parsed()
        return Path(config.get("trainer", {}).get("default_root_dir") or "runs") / self.run_name()

    def _resumed_version(self) -> int | None:
        """N, if ``--ckpt_path`` is a checkpoint of this config's ``version_N``; else None."""
        ckpt_path = self._parsed().get("ckpt_path")
        return run_version(Path(ckpt_path), self.runs_dir()) if ckpt_path else None

    def before_fit(self) -> None:
        """Start the run's loggers (``runs.loggers.start``) before anything is written."""
        run, *others = self.trainer.loggers
        start(run, others)

    def after_fit(self) -> None:
        """Say where the run went, how well it did, and what to run next (``fit_summary``)."""
        if not self.trainer.is_global_zero or self.trainer.fast_dev_run or self.run_folder is None:
            return
        config = self._parsed()
        configs = [str(path) for path in config.get("config") or []]
        recipe = [arg for path in configs for arg in ("--config", path)] or ["--model", type(self.model).__name__]
        data_dir = getattr(self.datamodule, "data_dir", None)
        moved = data_dir is not None and Path(data_dir) != Path(DEFAULT_DATA_DIR).expanduser()
        if moved:
            recipe += ["--data.data_dir", str(data_dir)]
        if config.get("trainer", {}).get("default_root_dir"):
            recipe += ["--trainer.default_root_dir", str(config.trainer.default_root_dir)]
        log.info(fit_summary(self.trainer, str(self.run_folder.path), recipe, str(data_dir) if moved else None))

    def before_predict(self) -> None:
        if self._parsed().get("ckpt_path") is None:
            raise LitDigitsError("predict needs a trained model: pass --ckpt_path PATH (or best, last)")
        self.trainer.callbacks.append(PrintPredictions())

    def _resolve_checkpoint(self, config: Any, subcommand: str) -> None:
        """``best``/``last``: the newest such file of an earlier run (for fit, none starts a new
        run); a path must be a checkpoint whose class paths pass the rules (``CheckedCheckpoint``)."""
        ckpt_path = config.get("ckpt_path")
        if ckpt_path in ("best", "last"):
            found = newest_checkpoint(self.runs_dir(), ckpt_path)
            if found is None and subcommand != "fit":
                raise LitDigitsError(
                    f"no {ckpt_path}.ckpt under {self.runs_dir()}: run fit with this config first, "
                    "or pass --ckpt_path PATH"
                )
            ckpt_path = str(found) if found else None
            config.ckpt_path = ckpt_path
        if ckpt_path is None:
            return
        if "://" in ckpt_path:  # Lightning would fetch it, and unpickle what a web address gives without weights_only
            raise LitDigitsError(
                f"--ckpt_path {ckpt_path}: lit_digits reads checkpoints from local files only; download it, "
                "and pass its path"
            )
        if not Path(ckpt_path).is_file():
            raise LitDigitsError(f"checkpoint {ckpt_path} not found; pass an existing file, best or last")
        trusted = named_modules(config.as_dict()) | set(config.get("trusted_modules") or [])
        self.checkpoint = CheckedCheckpoint.read(Path(ckpt_path), trusted)
        self.checkpoint.model_class(ImageClassifier)

    def apply_checkpoint_hyper_parameters(self) -> None:
        """The model's settings from ``--ckpt_path``'s checkpoint, checked while the arguments were
        parsed (``_resolve_checkpoint``), into the config, as LightningCLI's own reading puts them."""
        hyper_parameters = self.checkpoint.hyper_parameters() if self.checkpoint else {}
        hyper_parameters.pop("_instantiator", None)
        if not hyper_parameters:
            return
        hyper_parameters = {**LATER_ARGUMENTS, **hyper_parameters}  # what a checkpoint predates: the defaults
        if "_class_path" in hyper_parameters:
            hyper_parameters = {"class_path": hyper_parameters.pop("_class_path"), "dict_kwargs": hyper_parameters}
        self.parser.exit_on_error = False  # a refusal names the checkpoint
        try:
            self.config = self.parser.parse_object({self.config.subcommand: {"model": hyper_parameters}}, self.config)
        except ArgumentError as err:
            raise LitDigitsError(
                f"checkpoint {self.checkpoint.source}: its hyper_parameters do not fit the model: {one_line(str(err))}; "
                "it was not loaded"
            ) from err
        finally:
            self.parser.exit_on_error = True


def run_callbacks(
    xla: bool,
    run_folder: RunFolder | None,
    precision: dict[str, str] | None,
    progress_bar: bool,
    model_summary: bool,
    terminal: bool,
) -> list[Callback]:
    """The callbacks of every run, added to the config's own: in a fit's ``run_folder``,
    ``best.ckpt`` (best ``val_acc``) and ``last.ckpt`` (after every epoch, and when SIGTERM or Ctrl-C stops training; ``fit
    --ckpt_path last`` resumes from it), for fit the ``precision`` it trains in recorded in
    them, on XLA the compile count per epoch, and the progress bar (a line per epoch,
    ``EpochLines``, where the bar's stream is not a ``terminal``) and the model summary unless
    they are turned off. Lightning calls every callback at every step, whether it has work
    there or not, so there is nothing here a run does not use (the model itself writes the
    learning rates, beside the step loss)."""
    callbacks: list[Callback] = [RunCheckpoints(run_folder, precision)]
    if xla:
        callbacks.append(XLAGraphCheck())
    if progress_bar:  # a bar on a terminal; elsewhere (a file, a pipe, a scheduler's log) a line per epoch
        callbacks.append(TimedProgressBar() if terminal else EpochLines())
    if model_summary:
        callbacks.append(ParameterSummary())
    return callbacks
