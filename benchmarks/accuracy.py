"""Test accuracy of a recipe over several seeds, on the real data set.

    python benchmarks/accuracy.py --config configs/mnist.yaml --seeds 0 1 2 3 4 \
        --data_dir DIR [-- --trainer.max_epochs 12 ...]

Each seed trains the config from scratch (``lit_digits fit``'s own classes, in this process)
and tests the *final* weights on the test split (not the best epoch, which would select on
the test set). Prints one row per run and the mean, min and standard deviation; writes the
table as CSV and Markdown to ``--out``.

``best_val_acc`` is the best epoch's ``val_acc`` (from the config's ModelCheckpoint that
monitors it): the figure tutorials read off their training curves. With ``val_size: 0`` the
validation split is the test split, so it selects on the test set; it is shown for comparison
with published numbers, not as the result.
"""

import argparse
import csv
import statistics
import sys
import time
import warnings
from pathlib import Path

from environment import describe
from lightning.pytorch import Trainer

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


def markdown(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(FIELDS) + " |", "|" + " --- |" * len(FIELDS)]
    lines += ["| " + " | ".join(str(row[f]) for f in FIELDS) + " |" for row in rows]
    accuracies = [row["test_acc"] for row in rows]
    spread = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
    best = [row["best_val_acc"] for row in rows if row["best_val_acc"] is not None]
    best_mean = f"; best epochs' val_acc: mean {statistics.mean(best):.2f}%" if best else ""
    lines.append(
        f"\n{len(rows)} runs: test_acc mean {statistics.mean(accuracies):.2f}%, min {min(accuracies):.2f}%, "
        f"max {max(accuracies):.2f}%, std {spread:.2f}{best_mean}; {describe()}"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--data_dir", default=DEFAULT_DATA_DIR, help="the data sets, in torchvision's layout")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("overrides", nargs="*", help="after --: lit_digits fit arguments for every run")
    args = parser.parse_args()
    print(f"$ {' '.join(sys.argv)}", flush=True)
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
    (args.out / f"{name}.md").write_text(f"$ {' '.join(sys.argv)}\n\n{table}\n")


if __name__ == "__main__":
    main()
