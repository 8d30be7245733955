"""Training images/s: ``lit_digits fit`` against a minimal hand-written PyTorch loop.

    python benchmarks/throughput.py --config configs/cifar.yaml --data_dir DIR \
        [--steps 12 --rounds 3] [-- --trainer.precision bf16-mixed ...]

Both arms train the same model class from the same initial weights on the same data
module's batches, with its augmentation, the same optimizer, per-step schedule and
precision. The Lightning arm is the real thing: the config's Trainer, callbacks and
logger (validation off). The arms alternate within this process; each times the steps
after the first two (warm-up). Prints images/s per round and the ratio Lightning / loop.
"""

import argparse
import resource
import statistics
import sys
import time
import warnings
from contextlib import nullcontext

import torch
import torch.nn.functional as F
from environment import describe
from lightning.pytorch import Callback

from lit_digits import ChannelsLast
from lit_digits.cli import LitDigitsCLI
from lit_digits.data import DEFAULT_DATA_DIR

WARMUP = 2


class StepTimer(Callback):
    """Seconds from the end of the warm-up steps to the end of the last step."""

    def __init__(self) -> None:
        self.start = self.seconds = 0.0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if batch_idx + 1 == WARMUP:
            self.start = time.perf_counter()
        self.seconds = time.perf_counter() - self.start


def build(config: str, data_dir: str, steps: int, overrides: list[str]) -> LitDigitsCLI:
    args = ["--config", config, "--data.data_dir", data_dir, "--trainer.max_steps", str(steps),
            "--trainer.limit_val_batches", "0", "--trainer.enable_progress_bar", "false",
            "--trainer.enable_model_summary", "false", *overrides]  # fmt: skip
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter")
        return LitDigitsCLI(args=args, run=False, save_config_callback=None)


def lightning_arm(cli: LitDigitsCLI, state: dict) -> float:
    cli.model.load_state_dict(state)
    timer = StepTimer()
    cli.trainer.callbacks.append(timer)
    cli.trainer.fit(cli.model, cli.datamodule)
    return timer.seconds


def loop_arm(cli: LitDigitsCLI, state: dict, steps: int, precision: str, channels_last: bool) -> float:
    model, datamodule = cli.model, cli.datamodule
    model.load_state_dict(state)
    model.train()
    if channels_last:
        model.to(memory_format=torch.channels_last)
    if precision == "bf16-true":
        model.to(torch.bfloat16)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16-mixed" else nullcontext()
    optimizer, schedule = model.optimizer_and_scheduler(datamodule.steps_per_epoch(cli.trainer), cli.trainer.max_epochs,
                                                        datamodule.examples_per_step(cli.trainer))  # fmt: skip
    start = 0.0
    for step, (images, labels, *mirrored) in enumerate(datamodule.train_dataloader()):
        x = datamodule.augment(images.float() / 255, 0, *mirrored)
        with autocast:
            loss = F.cross_entropy(model(x).float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if step + 1 == WARMUP:
            start = time.perf_counter()
        if step + 1 == steps:
            return time.perf_counter() - start
    raise ValueError("fewer batches than --steps")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--data_dir", default=DEFAULT_DATA_DIR, help="the data sets, in torchvision's layout")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("overrides", nargs="*", help="after --: lit_digits fit arguments for both arms")
    args = parser.parse_args()
    print(f"$ {' '.join(sys.argv)}\n{describe()}", flush=True)
    torch.manual_seed(0)
    first = build(args.config, args.data_dir, args.steps, args.overrides)
    first.datamodule.setup("fit")
    state = {k: v.clone() for k, v in first.model.state_dict().items()}
    precision = str(first.trainer.precision)
    channels_last = any(isinstance(c, ChannelsLast) for c in first.trainer.callbacks)
    images = (args.steps - WARMUP) * first.datamodule.batch_size
    rates: dict[str, list[float]] = {"lightning": [], "loop": []}
    for round_ in range(args.rounds):
        cli = build(args.config, args.data_dir, args.steps, args.overrides)
        cli.datamodule = first.datamodule  # decoded once, shared by both arms
        rates["lightning"].append(images / lightning_arm(cli, state))
        loop_cli = build(args.config, args.data_dir, args.steps, args.overrides)
        loop_cli.datamodule = first.datamodule
        rates["loop"].append(images / loop_arm(loop_cli, state, args.steps, precision, channels_last))
        print(f"round {round_}: lightning {rates['lightning'][-1]:.1f} img/s, loop {rates['loop'][-1]:.1f} img/s",
              flush=True)  # fmt: skip
    lightning, loop = statistics.median(rates["lightning"]), statistics.median(rates["loop"])
    print(f"\n| arm | images/s (median of {args.rounds}) |\n| --- | --- |")
    print(f"| lit_digits fit (Lightning) | {lightning:.1f} |\n| hand-written loop | {loop:.1f} |")
    print(f"\nratio Lightning / loop: {lightning / loop:.3f} (precision {precision}, channels_last {channels_last})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    print(f"peak memory (RSS) of this process: {peak:.2f} GiB")


if __name__ == "__main__":
    main()
