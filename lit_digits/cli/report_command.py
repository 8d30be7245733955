"""``lit_digits report``: the pictures of a finished run, or of a recipe's schedule before training."""

import warnings
from pathlib import Path

from lit_digits.cli.lightning_cli import LitDigitsCLI
from lit_digits.cli.parser_errors import OneLineArgumentParser
from lit_digits.cli.run_parser import run_parser
from lit_digits.models.schedule_span import epochs_run
from lit_digits.report.runs import run_report
from lit_digits.report.schedule import planned_learning_rates

USAGE = """lit_digits report RUN_DIR_OR_CHECKPOINT [--out DIR] [--data_dir DIR] [--trusted_modules PACKAGE ...]
       lit_digits report --config CONFIG [--model.* ... overrides] [--out DIR]"""


def report_command(argv: list[str]) -> None:
    """Write the pictures and print their paths, one a line."""
    parser = run_parser(
        "lit_digits report",
        USAGE,
        "Write PNG pictures of a run (runs/<config>/version_N or one of its checkpoints): "
        "loss and accuracy per epoch, the learning rate per step, the test images with the most "
        "confident mistakes first, the confusion matrix and per-class accuracy. With --config and "
        "no run: the recipe's learning-rate schedule, before training.",
    )
    parser.add_argument("--out", type=Path, help="folder for the PNGs (default: RUN/report, or . with --config)")
    parser.add_argument("--data_dir", help="where the data set is, if not where the run had it")
    if any(arg in ("--config", "-c") or arg.startswith("--config=") for arg in argv):
        out_option = OneLineArgumentParser(prog="lit_digits report", add_help=False)
        out_option.add_argument("--out", type=Path, default=Path("."))
        known, config_args = out_option.parse_known_args(argv)
        written = [recipe_schedule(config_args, known.out)]
    else:
        args = parser.parse_args(argv)
        written = run_report(args.run, args.out, args.data_dir, args.trusted_modules)
    for path in written:
        print(path)


def recipe_schedule(config_args: list[str], out: Path) -> Path:
    """The learning rates of the recipe that ``config_args`` configure, at every step, without training."""
    with warnings.catch_warnings():  # Lightning warns when args and sys.argv both hold arguments
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter")
        cli = LitDigitsCLI(
            args=[*config_args, "--trainer.logger", "false"], run=False
        )  # no run folder: nothing to write
    steps_per_epoch = cli.datamodule.steps_per_epoch(cli.trainer)  # as a fit of this config counts them
    epochs = epochs_run(cli.trainer, steps_per_epoch)
    title = f"{cli.run_name()} ({type(cli.model).__name__}): {epochs:g} epochs x {steps_per_epoch} steps"
    examples = cli.datamodule.examples_per_step(cli.trainer)
    return planned_learning_rates(cli.model, steps_per_epoch, epochs, examples, title, out)
