"""Training time of whole recipes, projected from their steady step time, measured side by side.

    python benchmarks/recipe_time.py --configs configs/cifar.yaml configs/cifar_fast.yaml \
        --data_dir DIR [--steps 6 --rounds 2] [-- --trainer.accelerator gpu ...]

Each round trains every config for ``--steps`` steps through ``lit_digits fit`` as
configured (validation off), one after the other in this process, and times the steps
after the first two. A recipe's training time is then its median seconds per step x its
steps per epoch x its epochs (``max_epochs``, or ``max_steps``' worth where that ends the fit
sooner); validation is left out, as DAWNBench's reference timings leave it out. Prints each
recipe's figures and each one's time as a fraction of the first config's.
"""

import argparse
import statistics
import sys
import warnings
from pathlib import Path

import torch
from environment import describe
from throughput import WARMUP, StepTimer, build

from lit_digits.cli import LitDigitsCLI
from lit_digits.data import DEFAULT_DATA_DIR
from lit_digits.models.schedule_span import epochs_run


def step_seconds(config: str, data_dir: str, steps: int, overrides: list[str]) -> tuple[float, tuple[int, float]]:
    """Seconds per steady step of one short fit of ``config``, and the recipe's steps per epoch
    and epochs (counted before the fit reads the data: those of the published data set; a recipe
    that names its steps, ``max_steps``, in fractional epochs)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter")
        recipe = LitDigitsCLI(args=["--config", config, "--data.data_dir", data_dir, "--trainer.logger", "false",
                                    *overrides], run=False)  # fmt: skip
    per_epoch = recipe.datamodule.steps_per_epoch(recipe.trainer)
    plan = (per_epoch, epochs_run(recipe.trainer, per_epoch))
    cli = build(config, data_dir, steps, overrides)
    timer = StepTimer()
    cli.trainer.callbacks.append(timer)
    cli.trainer.fit(cli.model, cli.datamodule)
    return timer.seconds / (steps - WARMUP), plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", required=True)
    parser.add_argument("--data_dir", default=DEFAULT_DATA_DIR, help="the data sets, in torchvision's layout")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("overrides", nargs="*", help="after --: lit_digits fit arguments for every config")
    args = parser.parse_args()
    print(f"$ {' '.join(sys.argv)}\n{describe()}", flush=True)
    torch.manual_seed(0)
    seconds: dict[str, list[float]] = {config: [] for config in args.configs}
    plans: dict[str, tuple[int, float]] = {}
    for round_ in range(args.rounds):
        for config in args.configs:
            step, plans[config] = step_seconds(config, args.data_dir, args.steps, args.overrides)
            seconds[config].append(step)
            print(f"round {round_}: {Path(config).name} {step:.3f} s/step", flush=True)
    print(f"\n| recipe | s/step (median of {args.rounds}) | steps/epoch x epochs | training time | vs first |")
    print("| --- | --- | --- | --- | --- |")
    first = None
    for config in args.configs:
        step = statistics.median(seconds[config])
        per_epoch, epochs = plans[config]
        total = step * per_epoch * epochs
        first = first or total
        print(
            f"| {Path(config).name} | {step:.3f} | {per_epoch} x {epochs:g} | {total / 60:.1f} min | {total / first:.3f} |"
        )


if __name__ == "__main__":
    main()
