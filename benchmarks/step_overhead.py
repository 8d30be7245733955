"""Host time per training step: a plain PyTorch loop, bare Lightning, and ``lit_digits fit`` as configured.

    python benchmarks/step_overhead.py --config configs/mnist.yaml --data_dir ../shared/data \
        [--batch_size 4 --steps 400 --rounds 5] [-- --trainer.callbacks+=... overrides]

All three train the config's model on the config's data module (its batches and
augmentation), with its optimizer and per-step schedule, on the CPU with one thread and a
small batch, so the step's own arithmetic is small and what the host does around it shows.

- loop: ``for batch in loader: forward, backward, optimizer.step(), scheduler.step()``.
- bare Lightning: ``Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)``
  on a LightningModule whose ``training_step`` only returns the loss.
- lit_digits fit: ``LitDigitsCLI`` with the config as a user runs it (logger, checkpoint and
  learning-rate callbacks, progress bar, metrics), validation off.

The arms alternate within each round; each times the steps after ``WARMUP``. Prints the
median microseconds per step of each arm and the differences.
"""

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
import warnings

import torch
import torch.nn.functional as F
from environment import describe
from lightning.pytorch import Callback, LightningModule, Trainer

from lit_digits.cli import LitDigitsCLI

WARMUP = 20


class StepTimer(Callback):
    """Seconds from the end of step ``WARMUP`` to the end of the last step."""

    def __init__(self) -> None:
        self.start = self.seconds = 0.0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == WARMUP:
            self.start = time.perf_counter()
        self.seconds = time.perf_counter() - self.start


def configured(config: str, data_dir: str, batch_size: int, steps: int, root: str, overrides: list[str]):
    """The config as ``lit_digits fit`` builds it, stopping after ``steps`` steps."""
    args = ["--config", config, "--data.data_dir", data_dir, "--data.batch_size", str(batch_size),
            "--trainer.max_steps", str(steps), "--trainer.limit_val_batches", "0", "--trainer.accelerator", "cpu",
            "--trainer.default_root_dir", root, "--trainer.enable_model_summary", "false", *overrides]  # fmt: skip
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter")
        return LitDigitsCLI(args=args, run=False, save_config_callback=None)


def loop_arm(cli, steps: int) -> float:
    model, datamodule = cli.model.train(), cli.datamodule
    datamodule.prepare_data()
    datamodule.setup("fit")
    optimizer, scheduler = model.optimizer_and_scheduler(datamodule.planned_steps_per_epoch(), cli.trainer.max_epochs)
    step, start = 0, 0.0
    while True:
        for images, labels in datamodule.train_dataloader():
            loss = F.cross_entropy(model(datamodule.augment(images.float() / 255)), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            if step == WARMUP:
                start = time.perf_counter()
            if step == steps:
                return time.perf_counter() - start


class Bare(LightningModule):
    """The same network, optimizer and schedule; nothing logged, no metrics."""

    def __init__(self, model, steps_per_epoch: int) -> None:
        super().__init__()
        self.model, self.steps_per_epoch = model, steps_per_epoch

    def training_step(self, batch, batch_idx):
        return F.cross_entropy(self.model(batch[0]), batch[1])

    def configure_optimizers(self):
        optimizer, scheduler = self.model.optimizer_and_scheduler(self.steps_per_epoch, self.trainer.max_epochs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def bare_arm(cli, steps: int) -> float:
    timer = StepTimer()
    trainer = Trainer(max_epochs=cli.trainer.max_epochs, max_steps=steps, accelerator="cpu", devices=1, logger=False,
                      enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                      limit_val_batches=0, callbacks=[timer])  # fmt: skip
    trainer.fit(Bare(cli.model, cli.datamodule.planned_steps_per_epoch()), cli.datamodule)
    return timer.seconds


def fit_arm(cli, steps: int) -> float:
    timer = StepTimer()
    cli.trainer.callbacks.append(timer)
    with contextlib.redirect_stdout(io.StringIO()):
        cli.trainer.fit(cli.model, cli.datamodule)
    return timer.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--data_dir", default="../shared/data")
    parser.add_argument("--batch_size", type=int, default=4)
    parser.add_argument("--steps", type=int, default=400, help=f"steps per arm and round, the first {WARMUP} untimed")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("overrides", nargs="*", help="after --: lit_digits fit arguments for every arm")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"$ {' '.join(sys.argv)}", flush=True)
    arms = {"loop": loop_arm, "bare Lightning": bare_arm, "lit_digits fit": fit_arm}
    micros: dict[str, list[float]] = {name: [] for name in arms}
    with tempfile.TemporaryDirectory() as root:
        for round_ in range(args.rounds):
            for name, arm in arms.items():
                cli = configured(args.config, args.data_dir, args.batch_size, args.steps, root, args.overrides)
                micros[name].append(1e6 * arm(cli, args.steps) / (args.steps - WARMUP))
            print(f"round {round_}: " + ", ".join(f"{n} {m[-1]:.0f} us" for n, m in micros.items()), flush=True)
    median = {name: statistics.median(values) for name, values in micros.items()}
    print(f"\n| arm | us per step (median of {args.rounds}) | over the previous arm |\n| --- | --- | --- |")
    previous = None
    for name, value in median.items():
        extra = "" if previous is None else f"+{value - median[previous]:.0f} us"
        print(f"| {name} | {value:.0f} | {extra} |")
        previous = name
    print(f"\nbatch {args.batch_size}, {args.steps - WARMUP} timed steps per arm and round, 1 thread; {describe()}")


if __name__ == "__main__":
    main()
