"""Training step time of the CIFAR-10 recipes on this CPU in each precision and memory format,
beside the precision lit_digits chooses here.

    python benchmarks/cpu_precision.py --data_dir DIR [--steps 3] [--rounds 1] [--batch_size N] \
        [--configs configs/cifar.yaml ...] [-- overrides for every config]

Each cell is a short ``lit_digits fit`` of the recipe (its network, optimizers, data module,
callbacks; validation off) with ``--trainer.precision`` 32-true or bf16-mixed and
``lit_digits.ChannelsLast`` on or off, built from the same seed. A cell's time is the fastest of
its steps after the first (the first creates oneDNN's kernels), each from the end of one
step to the end of the next; with ``--rounds`` N, each round runs every cell once, in turn,
and the fastest step of all rounds counts (on a shared machine the slower ones measure the
other work as much as this). The recipe as shipped is the cell of the precision lit_digits
chooses here (no ``--trainer.precision``) and the recipe's own memory format; the last column
is its time over the best float32 cell's.

Prints the processor as the rule sees it: lscpu's model name, torch's CPU capability, the
bf16 instructions, oneDNN's own bf16 check, the answer of ``lit_digits.precision.native_bf16``
and the variables that limit torch and oneDNN (``ATEN_CPU_CAPABILITY``, ``ONEDNN_MAX_CPU_ISA``:
set both to ``avx2``/``AVX2`` to emulate an AVX2-only CPU).
"""

import argparse
import logging
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch
from environment import describe
from lightning.pytorch import Callback

from lit_digits import ChannelsLast
from lit_digits.cli import LitDigitsCLI
from lit_digits.data import DEFAULT_DATA_DIR
from lit_digits.precision import choose_precision, cpu_model, native_bf16

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
CIFAR_RECIPES = [str(CONFIGS / f"{name}.yaml") for name in ("cifar", "cifar_fast", "cifar_air", "cifar_hiverge")]
PRECISIONS = ("32-true", "bf16-mixed")
NAN = float("nan")
LIMITS = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "OMP_NUM_THREADS")


class StepEnds(Callback):
    """The time at the end of every training step."""

    def __init__(self) -> None:
        self.ends: list[float] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.ends.append(time.perf_counter())


def build(config: str, data_dir: str, root: str, steps: int, extra: list[str]) -> LitDigitsCLI:
    args = ["--config", config, "--data.data_dir", data_dir, "--trainer.max_steps", str(steps),
            "--trainer.limit_val_batches", "0", "--trainer.accelerator", "cpu", "--trainer.default_root_dir", root,
            "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false", *extra]  # fmt: skip
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter")
        return LitDigitsCLI(args=args, run=False, save_config_callback=None)


def step_seconds(cli: LitDigitsCLI, channels_last: bool, datamodule) -> list[float]:
    """The seconds of each step after the first, with ChannelsLast on or off."""
    cli.trainer.callbacks[:] = [c for c in cli.trainer.callbacks if not isinstance(c, ChannelsLast)]
    if channels_last:
        cli.trainer.callbacks.append(ChannelsLast())
    ends = StepEnds()
    cli.trainer.callbacks.append(ends)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's hints about a short fit without validation
        cli.trainer.fit(cli.model, datamodule)
    return [b - a for a, b in zip(ends.ends, ends.ends[1:])]


def processor_lines() -> list[str]:
    yes = {True: "yes", False: "no"}
    bf16_instructions = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    onednn = torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    limits = " ".join(f"{name}={os.environ[name]}" for name in LIMITS if name in os.environ) or "none"
    flags = (f"AVX-512 BF16 or AMX instructions: {yes[bf16_instructions]}; oneDNN bf16: {yes[onednn]}; "
             f"native bf16 (lit_digits.precision.native_bf16): {yes[native_bf16('cpu')]}")  # fmt: skip
    return [f"processor: {cpu_model()}; torch CPU capability {torch.backends.cpu.get_cpu_capability()}", flags,
            f"limits set: {limits}"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=CIFAR_RECIPES)
    parser.add_argument("--data_dir", default=DEFAULT_DATA_DIR, help="the data sets, in torchvision's layout")
    parser.add_argument("--steps", type=int, default=3, help="steps per cell; the first is not timed")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=PRECISIONS)
    parser.add_argument("--batch_size", type=int, help="for every recipe (default: each recipe's own)")
    parser.add_argument("overrides", nargs="*", help="after --: lit_digits fit arguments for every config")
    args = parser.parse_args()
    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    print(f"$ {' '.join(sys.argv)}\n{describe()}", *processor_lines(), sep="\n", flush=True)
    cells = [(precision, channels_last) for precision in args.precisions for channels_last in (False, True)]
    extra = [*(["--data.batch_size", str(args.batch_size)] if args.batch_size else []), *args.overrides]
    rows = []
    with tempfile.TemporaryDirectory() as root:
        for config in args.configs:
            shipped = build(config, args.data_dir, root, args.steps, extra)
            choice = choose_precision("cpu", None, shipped.config.get("recipe_precision"))
            shipped_cell = (choice.precision, any(isinstance(c, ChannelsLast) for c in shipped.trainer.callbacks))
            datamodule = shipped.datamodule  # decoded once for the recipe's cells
            steps: dict[tuple[str, bool], list[float]] = {cell: [] for cell in cells}
            for round_ in range(args.rounds):
                for precision, channels_last in cells:
                    cli = build(config, args.data_dir, root, args.steps, [*extra, "--trainer.precision", precision])
                    timed = step_seconds(cli, channels_last, datamodule)
                    steps[precision, channels_last] += timed
                    print(f"round {round_}: {Path(config).name} {precision}{' channels-last' if channels_last else ''}: "
                          f"{', '.join(f'{s:.3f}' for s in timed)} s/step", flush=True)  # fmt: skip
            seconds = {cell: min(times) for cell, times in steps.items()}
            best_float32 = min(seconds.get(("32-true", memory_format), NAN) for memory_format in (False, True))
            shipped_name = f"{choice.precision}{', channels-last' if shipped_cell[1] else ''}"
            rows.append(f"| {Path(config).name} ({datamodule.batch_size}) | "
                        + " | ".join(f"{seconds[cell]:.2f}" for cell in cells)
                        + f" | {shipped_name} | {seconds.get(shipped_cell, NAN) / best_float32:.2f} |")  # fmt: skip
            print(f"{Path(config).name}: lit_digits chooses precision {choice.precision} ({choice.reason})")
    names = [f"{precision}{', channels-last' if channels_last else ''}" for precision, channels_last in cells]
    print("\nSeconds per training step:\n")
    print(f"| recipe (batch) | {' | '.join(names)} | as shipped here | shipped / best 32-true |")
    print("| --- " * (len(cells) + 3) + "|", *rows, sep="\n")


if __name__ == "__main__":
    main()
