"""The command line as the tests run it: ``python -m lit_digits`` as a user would (``run_cli``, ``fit``), or the
same command in this process (``InProcess``, the ``in_process`` fixture), where a test needs no property of a
real process; the arguments of a short fit (``fit_args``); the one line a user's mistake or a stop gets
(``assert_one_line_error``, ``assert_stopped``)."""

import contextlib
import logging
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.tiny_data import write_mnist

if TYPE_CHECKING:
    from lit_digits.cli import LitDigitsCLI

REPOSITORY = Path(__file__).resolve().parents[2]
CONFIGS = REPOSITORY / "configs"
PROBES = str(REPOSITORY / "tests" / "probes")
"""The probes: callbacks that tests load into a fit in another process (``env={"PYTHONPATH": PROBES}``)."""
SMALL_DAVIDNET = ["--model.net.init_args.width", "8", "--model.lr_schedule.init_args.peak_epoch", "0.5"]
"""DavidNet at width 8 with a half-epoch warm-up, so that runs of a few epochs have a valid schedule."""
SMALL_FAST = ["--model.net.init_args.width", "8"]
"""configs/cifar_fast.yaml's DavidNet at width 8 (ghost BatchNorm needs batches of a multiple of 16)."""
SMALL_AIR = ["--model.net.init_args.widths", "[8, 16, 256]", "--data.batch_size", "20"]
"""configs/cifar_air.yaml's network at widths 8/16/256 (its last width scales its logits), 5 steps an epoch
on the tiny CIFAR-10; its SGD rates, per example, sum 20 examples a step (those of the recipe's 2000
would diverge on batches of noise images)."""
QUICK = ["--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.enable_progress_bar", "false"]


def whole_epochs(epochs: int | str) -> list[str]:
    """``epochs`` epochs, each over the whole tiny training set (``QUICK``'s are cut to 2 batches)."""
    return ["--trainer.max_epochs", str(epochs), "--trainer.limit_train_batches", "1.0"]


def child_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment with ``env`` added; a PYTHONPATH in ``env`` goes before the one set
    here, so that the child imports the same lit_digits as the tests."""
    extra = dict(env or {})
    if "PYTHONPATH" in extra and os.environ.get("PYTHONPATH"):
        extra["PYTHONPATH"] = os.pathsep.join([extra["PYTHONPATH"], os.environ["PYTHONPATH"]])
    return {**os.environ, **extra}


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the CLI with ``args``; returns the finished process (stdout and stderr as text)."""
    return subprocess.run(
        [sys.executable, "-m", "lit_digits", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=child_env(env),
        timeout=600,
        check=False,
    )


def fit_args(config: str, data_dir: Path, *extra: str) -> list[str]:
    """The arguments of a short ``fit`` of ``configs/<config>.yaml`` on the tiny data in ``data_dir``."""
    recipe = ["--config", str(CONFIGS / f"{config}.yaml"), "--data.data_dir", str(data_dir)]
    return ["fit", *recipe, "--data.batch_size", "16", *QUICK, *extra]


def fit(config: str, data_dir: Path, *extra: str, cwd: Path, env: dict[str, str] | None = None):
    """A short ``fit`` of ``configs/<config>.yaml`` on the tiny data in ``data_dir``."""
    return run_cli(*fit_args(config, data_dir, *extra), cwd=cwd, env=env)


def assert_one_line_error(result, *needles: str, code: int = 1, alone: bool = False) -> str:
    """A user's mistake as ``lit_digits`` reports it: exit status ``code`` (1; 2 for what the argument
    parser refuses), no traceback, exactly one ``lit_digits: error:`` line on stderr, holding each of
    ``needles``; that line. ``alone``: stderr holds nothing else, as it always does for status 2 (without
    the usage text)."""
    return _one_line(result, "lit_digits: error: ", needles, code, alone or code == 2)


def assert_stopped(result, cause: str, status: int) -> None:
    """A fit that SIGTERM or Ctrl-C (``cause``) stopped between two steps: exit status ``status``, no
    traceback, and the one line that says so."""
    _one_line(result, "lit_digits: stopped by ", [f"stopped by {cause} (exit status {status})"], status, False)


def _one_line(result, prefix: str, needles, code: int, alone: bool) -> str:
    """The one line of ``result``'s stderr that starts with ``prefix``, checked as ``assert_one_line_error``
    says."""
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, result.stderr
    if alone:
        assert result.stderr.strip() == lines[0], result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


PYTHON_WARNING_FILTERS = [
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
]
"""A fresh interpreter's warning filters (no -W options), which pytest replaces with its own."""

LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric")
"""Lightning's loggers that, imported in a process whose root logger has no handler, get a handler of their
own on stderr and stop propagating; under pytest, whose handlers are on the root logger, they propagate."""


def run_in_process(*args: str, cwd: Path, env: dict[str, str] | None = None) -> int:
    """``lit_digits *args`` by ``lit_digits.cli.main`` in this process, started in ``cwd`` with ``env`` as
    ``python -m lit_digits`` would start (``as_a_process``); its exit status. What it prints goes to this
    process's stdout and stderr: ``InProcess`` gives them back; a fixture that outlives a test (and
    capsys) leaves them to pytest."""
    from lit_digits.cli import main

    with as_a_process(cwd, env):
        try:
            main(list(args))
        except SystemExit as exit:
            return exit.code
    return 0


class InProcess:
    """``run_cli`` and ``fit`` by ``run_in_process``: the same arguments, ``cwd`` and ``env``, and the same
    result, a finished process whose ``returncode``, ``stdout`` and ``stderr`` are what ``python -m
    lit_digits`` would give, without an interpreter's start-up (seconds a command). Each command's output
    is its own (``capsys``, read before and after it).

    Only for what a process itself does not decide: signals, exit by a signal, imports and the
    environment at start-up, several processes (DDP, torchrun) are for ``run_cli``. An exception that
    would be a traceback in a process fails the test here. The fixture: ``conftest.in_process``."""

    def __init__(self, capsys) -> None:
        self.capsys = capsys

    def run_cli(self, *args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        self.capsys.readouterr()  # what came before is not this command's
        status = run_in_process(*args, cwd=cwd, env=env)
        out, err = self.capsys.readouterr()
        return subprocess.CompletedProcess(["lit_digits", *args], status, out, err)

    def fit(self, config: str, data_dir: Path, *extra: str, cwd: Path, env: dict[str, str] | None = None):
        return self.run_cli(*fit_args(config, data_dir, *extra), cwd=cwd, env=env)


def fitted_mnist_run(work: Path, *extra: str) -> Path:
    """A finished short fit of configs/mnist.yaml (``fit_args``, ``extra`` after them) on a tiny MNIST written
    to ``WORK/data``, run in this process with ``WORK`` as its working directory; its folder,
    ``WORK/runs/mnist/version_0``. For module-scoped fixtures: a refusal fails their set-up."""
    data = write_mnist(work / "data")
    status = run_in_process(*fit_args("mnist", data, *extra), cwd=work)
    assert status == 0, f"the fit ended with exit status {status}"
    return work / "runs" / "mnist" / "version_0"


def built_cli(*args: str) -> "LitDigitsCLI":
    """``LitDigitsCLI`` built from ``args`` in this process and not run: the model, data module and trainer
    a command would run (``.model``, ``.datamodule``, ``.trainer``), for tests of those objects, which
    no command's output shows (the in-process and subprocess runs give back only exit status and output)."""
    from lit_digits.cli import LitDigitsCLI

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter")  # pytest's own sys.argv
        return LitDigitsCLI(args=list(args), run=False, save_config_callback=None)


@contextlib.contextmanager
def as_a_process(cwd: Path, env: dict[str, str] | None) -> Iterator[None]:
    """In ``cwd`` with ``env`` added, as ``python -m lit_digits`` starts: its ``sys.argv``; a fresh
    interpreter's warning filters, warnings printed to stderr (pytest records them instead); Lightning's
    loggers as such a process sets them up (``LIGHTNING_LOGGERS``), and what reaches the root logger
    unhandled printed as Python's last resort does; the package's log set up afresh by each command.
    The environment, working directory and loggers are given back afterwards. A PYTHONPATH in ``env``
    is for a new interpreter (``run_cli``)."""
    import lit_digits

    if "PYTHONPATH" in (env or {}):
        raise ValueError(f"PYTHONPATH {env['PYTHONPATH']} is for a new interpreter: use run_cli")
    saved_env, saved_cwd, saved_argv = dict(os.environ), os.getcwd(), sys.argv
    loggers = [logging.getLogger(name) for name in ("lit_digits", *LIGHTNING_LOGGERS)]
    saved_loggers = [(logger.handlers[:], logger.propagate, logger.level) for logger in loggers]
    root, last_resort = logging.getLogger(), _LastResort(sys.stderr)
    try:
        for logger in loggers[1:]:
            logger.handlers[:], logger.propagate = [logging.StreamHandler(sys.stderr)], False
        root.addHandler(last_resort)
        os.environ.update(env or {})
        os.chdir(cwd)
        sys.argv = [str(Path(lit_digits.__file__).with_name("__main__.py"))]
        with warnings.catch_warnings():
            warnings.resetwarnings()
            for action, category, module in PYTHON_WARNING_FILTERS:
                warnings.filterwarnings(action, category=category, module=module, append=True)
            warnings.showwarning = _print_warning
            yield
    finally:
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        root.removeHandler(last_resort)
        for logger, (handlers, propagate, level) in zip(loggers, saved_loggers):
            logger.handlers[:], logger.propagate = handlers, propagate
            logger.setLevel(level)


class _LastResort(logging.StreamHandler):
    """``logging.lastResort`` of a process whose root logger has no handler: a record of WARNING or above
    that met no handler on its way up is printed to stderr, as it is."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self.setLevel(logging.WARNING)

    def filter(self, record: logging.LogRecord) -> bool:
        logger = logging.getLogger(record.name)
        while logger.parent is not None:  # up to the root, whose handlers here are pytest's
            if logger.handlers:
                return False
            logger = logger.parent
        return super().filter(record)


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """How Python shows a warning by default: on (this test's) stderr."""
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))
