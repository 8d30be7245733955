"""Test accuracy of a recipe over several seeds, on the real data set.

    python benchmarks/accuracy.py --config configs/mnist.yaml --seeds 0 1 2 3 4 \
        --data_dir DIR [-- --trainer.max_epochs 12 ...]

Each seed trains the config from scratch (``lit_digits fit``'s own classes, in this process)
and tests the *final* weights on the test split (not the best epoch, which would select on
the test set). Prints one row per run, then the mean with its 95% interval, the standard
deviation, min and max; writes the table as CSV and Markdown to ``--out``.

``best_val_acc`` is the best epoch's ``val_acc`` (from the config's ModelCheckpoint that
monitors it): the figure tutorials read off their training curves. With ``val_size: 0`` the
validation split is the test split, so it selects on the test set; it is shown for comparison
with published numbers, not as the result.

The statistics, without training (from this script's CSV files, or from accuracies in percent):

    python benchmarks/accuracy.py --compare A.csv [B.csv] [--reference MEAN]
    python benchmarks/accuracy.py --compare-values "94.00 94.12" ["93.84 94.06 94.25"] [--reference MEAN]

print each one's mean, standard deviation and 95% interval of the mean (Student t; none with fewer
than 3 seeds) and, for two, mean(A) - mean(B) with its 95% interval and Welch's t-test (p-value
only with 2 seeds a side or more); with one and ``--reference``, its difference from that mean,
taken as exact (a mean of hundreds of runs), by a one-sample t-test. Nothing is written.
"""

import argparse
import csv
import shlex
import sys
import time
import warnings
from pathlib import Path

from environment import describe
from lightning.pytorch import Trainer
from seed_statistics import (
    MIN_SEEDS_FOR_INTERVAL,
    MIN_SEEDS_FOR_TEST,
    Difference,
    Summary,
    against_reference,
    summarize,
    welch,
)

from lit_digits.cli import LitDigitsCLI
from lit_digits.data import DEFAULT_DATA_DIR

FIELDS = ["config", "seed", "epochs", "test_acc", "best_val_acc", "wall_s", "device"]


def best_val_accuracy(trainer: Trainer) -> float | None:
    """The best epoch's val_acc in percent, as a checkpoint callback monitoring it recorded; None without one."""
    for callback in trainer.checkpoint_callbacks:
        if callback.monitor == "val_acc" and callback.best_model_score is not None:
            return round(100 * float(callback.best_model_score), 2)
    return None


def train_and_test(config: str, seed: int, data_dir: str, overrides: list[str]) -> dict:
    """Fit ``config`` with ``seed``; the final model's test accuracy and the fit's wall time."""
    args = ["--config", config, "--seed_everything", str(seed), "--data.data_dir", data_dir,
            "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false", *overrides]  # fmt: skip
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter")
        cli = LitDigitsCLI(args=args, run=False, save_config_callback=None)
    start = time.perf_counter()
    cli.trainer.fit(cli.model, cli.datamodule)
    wall = time.perf_counter() - start
    (result,) = cli.trainer.test(cli.model, cli.datamodule, verbose=False)
    return {
        "config": " ".join([Path(config).name, *overrides]),
        "seed": seed,
        "epochs": cli.trainer.current_epoch,
        "test_acc": round(100 * result["test_acc"], 2),
        "best_val_acc": best_val_accuracy(cli.trainer),
        "wall_s": round(wall),
        "device": str(cli.trainer.strategy.root_device),
    }


def interval_text(interval: tuple[float, float] | None, signed: bool = False) -> str:
    """``95% CI [low, high]``, or why there is none."""
    if interval is None:
        return f"n < {MIN_SEEDS_FOR_INTERVAL}: no interval"
    sign = "+" if signed else ""
    return f"95% CI [{interval[0]:{sign}.2f}, {interval[1]:{sign}.2f}]"


def mean_text(summary: Summary) -> str:
    """The mean and, where there is an interval, its half-width."""
    if summary.interval is None:
        return f"{summary.mean:.2f}%"
    return f"{summary.mean:.2f}% ± {(summary.interval[1] - summary.interval[0]) / 2:.2f}"


def std_text(summary: Summary) -> str:
    return "-" if summary.std is None else f"{summary.std:.2f}"


def difference_text(difference: Difference, test: str) -> str:
    """The difference in points, its 95% interval and the test's p-value."""
    if difference.p_value is None:
        p_value = f"no test with n < {MIN_SEEDS_FOR_TEST} on a side"
    else:
        p_value = f"{test} p = {difference.p_value:.2g} (df {difference.df:.3g})"
    return f"{difference.difference:+.2f} points ({interval_text(difference.interval, signed=True)}); {p_value}"


def markdown(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(FIELDS) + " |", "|" + " --- |" * len(FIELDS)]
    lines += ["| " + " | ".join(str(row[f]) for f in FIELDS) + " |" for row in rows]
    accuracies = [row["test_acc"] for row in rows]
    summary = summarize(accuracies)
    best = [row["best_val_acc"] for row in rows if row["best_val_acc"] is not None]
    best_mean = f"; best epochs' val_acc: mean {summarize(best).mean:.2f}%" if best else ""
    lines.append(
        f"\n{len(rows)} runs: test_acc mean {mean_text(summary)} ({interval_text(summary.interval)}), "
        f"std {std_text(summary)}, min {min(accuracies):.2f}%, max {max(accuracies):.2f}%{best_mean}; {describe()}"
    )
    return "\n".join(lines)


def comparison(sides: list[tuple[str, list[float]]], reference: float | None) -> str:
    """A table of each side's statistics, then the difference of the two, or of one from ``reference``."""
    lines = ["| runs | seeds | test_acc mean | interval of the mean (Student t) | std |", "|" + " --- |" * 5]
    for name, values in sides:
        summary = summarize(values)
        lines.append(
            f"| {name} | {summary.n} | {mean_text(summary)} | {interval_text(summary.interval)} | {std_text(summary)} |"
        )
    if len(sides) == 2:
        (first, a), (second, b) = sides
        lines.append(f"\n{first} - {second}: {difference_text(welch(a, b), 'Welch two-sample t-test')}")
    elif reference is not None:
        ((name, values),) = sides
        lines.append(
            f"\n{name} - {reference:.2f}%: {difference_text(against_reference(values, reference), 'one-sample t-test')}"
        )
    return "\n".join(lines)


def parse_values(text: str, parser: argparse.ArgumentParser) -> tuple[str, list[float]]:
    """One side of ``--compare-values`` (accuracies in percent, separated by spaces or commas), named by them."""
    words = text.replace(",", " ").split()
    try:
        values = [float(word) for word in words]
    except ValueError:
        parser.error(
            f"--compare-values takes accuracies in percent separated by spaces, one quoted list a side: got {text!r}"
        )
    if not values:
        parser.error("--compare-values got an empty list: give each side's accuracies, quoted")
    return " ".join(words), values


def read_accuracies(path: Path, parser: argparse.ArgumentParser) -> list[float]:
    """The ``test_acc`` column of a CSV file this script wrote."""
    try:
        with path.open(newline="") as file:
            values = [float(row["test_acc"]) for row in csv.DictReader(file)]
    except (OSError, KeyError, TypeError, ValueError) as error:
        parser.error(f"--compare {path}: not a CSV file of this script with test_acc in every row ({error!r})")
    if not values:
        parser.error(f"--compare {path}: no runs in the file")
    return values


def compared(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[tuple[str, list[float]]]:
    """The sides of ``--compare`` or ``--compare-values``, each with the name it is printed under."""
    if args.compare:
        sides = [(str(path), read_accuracies(path, parser)) for path in args.compare]
    else:
        sides = [parse_values(text, parser) for text in args.compare_values]
    if len(sides) > 2:
        parser.error(f"compare one or two sides, not {len(sides)}")
    if args.reference is not None and len(sides) != 1:
        parser.error("--reference compares one side with a mean: give one CSV or list")
    if args.overrides:
        parser.error("lit_digits fit arguments after -- are for training (--config); a comparison trains nothing")
    return sides


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--config", help="train and test this recipe once per seed")
    mode.add_argument("--compare", type=Path, nargs="+", metavar="CSV", help="one or two CSV files this script wrote")
    mode.add_argument("--compare-values", nargs="+", metavar="VALUES",
                      help='one or two quoted lists of test accuracies in percent, e.g. "94.00 94.12"')  # fmt: skip
    parser.add_argument("--reference", type=float, help="with one side: the mean (percent) to test it against")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--data_dir", default=DEFAULT_DATA_DIR, help="the data sets, in torchvision's layout")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("overrides", nargs="*", help="after --: lit_digits fit arguments for every run")
    args = parser.parse_args()
    print(f"$ {shlex.join(sys.argv)}", flush=True)
    if args.config is not None and args.reference is not None:
        parser.error("--reference is for a comparison (--compare or --compare-values), not for training")
    if args.config is None:
        print(comparison(compared(args, parser), args.reference))
        return
    rows = []
    for seed in args.seeds:
        rows.append(train_and_test(args.config, seed, args.data_dir, args.overrides))
        print(rows[-1], flush=True)
    table = markdown(rows)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"accuracy_{Path(args.config).stem}_{int(time.time())}"
    with (args.out / f"{name}.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    (args.out / f"{name}.md").write_text(f"$ {shlex.join(sys.argv)}\n\n{table}\n")


if __name__ == "__main__":
    main()
