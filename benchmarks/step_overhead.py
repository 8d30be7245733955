"""Host time per training step: a plain PyTorch loop, bare Lightning, and ``lit_digits fit`` as configured.

    python benchmarks/step_overhead.py --config configs/mnist.yaml --data_dir DIR \
        [--batch_size 4 --steps 1000 --rounds 3] [-- --trainer.callbacks+=... overrides]

All three train the config's model on the config's data module (its batches and
augmentation), with its optimizer and per-step schedule, on the CPU with one thread and a
small batch, so the step's own arithmetic is small and what the host does around it shows.

- loop: ``for batch in loader: forward, backward, optimizer.step(), scheduler.step()``.
- bare Lightning: ``Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)``
  on a LightningModule whose ``training_step`` only returns the loss.
- lit_digits fit: ``LitDigitsCLI`` with the config as a user runs it (logger, checkpoints,
  progress bar, epoch metrics, learning rates), validation off. Its progress bar redraws
  every 0.1 s of the arm's own time (``Lockstep.clock``), as often per step as in a run alone.
  Where stdout is not a terminal, a run has a line per epoch (``EpochLines``) instead, and so
  does this arm.

The three run at once, in lockstep: each in its own thread, taking turns one step at a
time (loop step 1, bare step 1, fit step 1, loop step 2, ...). On a shared machine whose
speed drifts by 10-20% within seconds, two arms run one after the other differ by more
than the overhead measured here; steps taken in turn see the same machine, and the
difference of step i in two arms cancels what it shares. A step's time runs from the
moment its arm gets the turn to the start of its next step, so it holds everything the
arm does once per step: loading the batch, the hooks, the logging, the step itself.

Before each round the heap is collected and frozen (``gc.freeze``): a full collection of
the ~600k objects torch and Lightning bring takes ~0.25 s and would land in whichever arm
triggers it; the objects the steps make are still collected. Prints each arm's mean
microseconds per step and each one's difference from the previous arm: per round, the mean
paired difference with its 95% interval, and over the rounds, their mean with its standard
error (rounds of the same code differ by more than their intervals: use several).
"""

import argparse
import contextlib
import gc
import io
import logging
import math
import statistics
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable

import torch
import torch.nn.functional as F
from environment import describe
from lightning.pytorch import Callback, LightningModule, Trainer

from lit_digits.callbacks.progress import TimedProgressBar
from lit_digits.cli import LitDigitsCLI
from lit_digits.data import DEFAULT_DATA_DIR

WARMUP = 20
ARMS = ("loop", "bare Lightning", "lit_digits fit")


class Lockstep:
    """Lets several training loops, each in its own thread, run one step at a time in turn,
    and records how long each of their steps took."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.waiting = list(names)
        self.turn = 0
        self.changed = threading.Condition()
        self.seconds: dict[str, list[float]] = {name: [] for name in names}
        self.spent = dict.fromkeys(names, 0.0)
        self.started: dict[str, float] = {}

    def step(self, name: str) -> None:
        """Called at the start of each of ``name``'s steps: ends its previous step, hands the
        turn on and waits for it to come back."""
        now = time.perf_counter()
        with self.changed:
            if name in self.started:
                elapsed = now - self.started[name]
                self.seconds[name].append(elapsed)
                self.spent[name] += elapsed
                self.turn = (self.turn + 1) % len(self.waiting)
                self.changed.notify_all()
            self.changed.wait_for(lambda: self.waiting[self.turn] == name)
        self.started[name] = time.perf_counter()

    def clock(self, name: str) -> Callable[[], float]:
        """Seconds ``name`` has spent in its own steps, which is what its clock would show if it
        ran alone (the wall clock also runs through the other arms' steps)."""
        return lambda: self.spent[name] + time.perf_counter() - self.started[name]

    def leave(self, name: str) -> None:
        """``name`` takes no more steps (its last one is not counted)."""
        with self.changed:
            if name not in self.waiting:
                return
            index = self.waiting.index(name)
            self.waiting.remove(name)
            if self.waiting:
                self.turn = self.turn % len(self.waiting) if index >= self.turn else self.turn - 1
            self.changed.notify_all()


class TakeTurns(Callback):
    """A Lightning arm's part in the ``Lockstep``."""

    def __init__(self, lockstep: Lockstep, name: str) -> None:
        self.lockstep, self.name = lockstep, name

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.lockstep.step(self.name)


def configured(config: str, data_dir: str, batch_size: int, steps: int, root: str, overrides: list[str]):
    """The config as ``lit_digits fit`` builds it, stopping after ``steps`` steps."""
    args = ["--config", config, "--data.data_dir", data_dir, "--data.batch_size", str(batch_size),
            "--trainer.max_steps", str(steps), "--trainer.limit_val_batches", "0", "--trainer.accelerator", "cpu",
            "--trainer.default_root_dir", root, "--trainer.enable_model_summary", "false", *overrides]  # fmt: skip
    return LitDigitsCLI(args=args, run=False, save_config_callback=None)


def loop_arm(cli, steps: int, lockstep: Lockstep) -> None:
    model, datamodule = cli.model.train(), cli.datamodule
    datamodule.prepare_data()
    datamodule.setup("fit")
    optimizer, scheduler = model.optimizer_and_scheduler(
        datamodule.steps_per_epoch(cli.trainer), cli.trainer.max_epochs, datamodule.examples_per_step(cli.trainer)
    )
    step = 0
    while True:
        for images, labels, *mirrored in datamodule.train_dataloader():
            if step == steps:
                return
            lockstep.step("loop")
            loss = F.cross_entropy(model(datamodule.augment(images.float() / 255, 0, *mirrored)), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1


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


def bare_arm(cli, steps: int, lockstep: Lockstep) -> None:
    trainer = Trainer(max_epochs=cli.trainer.max_epochs, max_steps=steps, accelerator="cpu", devices=1, logger=False,
                      enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                      limit_val_batches=0, callbacks=[TakeTurns(lockstep, "bare Lightning")])  # fmt: skip
    trainer.fit(Bare(cli.model, cli.datamodule.steps_per_epoch(cli.trainer)), cli.datamodule)


def fit_arm(cli, steps: int, lockstep: Lockstep) -> None:
    cli.trainer.callbacks.append(TakeTurns(lockstep, "lit_digits fit"))
    for callback in cli.trainer.callbacks:
        if isinstance(callback, TimedProgressBar):  # redraws each 0.1 s: per step as often as alone
            callback.clock = lockstep.clock("lit_digits fit")
    with contextlib.redirect_stdout(io.StringIO()):  # the progress bar
        cli.trainer.fit(cli.model, cli.datamodule)


def run_arm(arm, name: str, cli, steps: int, lockstep: Lockstep) -> None:
    """Run one arm; when it ends, by its last step or an error, the others go on without it."""
    try:
        arm(cli, steps, lockstep)
    finally:
        lockstep.leave(name)


def one_round(clis: dict, steps: int) -> dict[str, list[float]]:
    """Microseconds of each timed step of each arm, the arms run in lockstep; the
    ``lit_digits fit`` arm runs in this (the main) thread, as the command does."""
    lockstep = Lockstep(ARMS)
    threads = [
        threading.Thread(target=run_arm, args=(arm, name, clis[name], steps, lockstep))
        for name, arm in (("loop", loop_arm), ("bare Lightning", bare_arm))
    ]
    gc.collect()
    gc.freeze()
    try:
        for thread in threads:
            thread.start()
        run_arm(fit_arm, "lit_digits fit", clis["lit_digits fit"], steps, lockstep)
        for thread in threads:
            thread.join()
    finally:
        gc.unfreeze()
    return {name: [1e6 * s for s in seconds[WARMUP:]] for name, seconds in lockstep.seconds.items()}


def difference(later: list[float], earlier: list[float]) -> tuple[float, float]:
    """Mean of the steps' paired differences and the half-width of its 95% interval."""
    pairs = [a - b for a, b in zip(later, earlier)]
    return statistics.mean(pairs), 1.96 * statistics.stdev(pairs) / math.sqrt(len(pairs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--data_dir", default=DEFAULT_DATA_DIR, help="the data sets, in torchvision's layout")
    parser.add_argument("--batch_size", type=int, default=4)
    parser.add_argument("--steps", type=int, default=1000, help=f"steps per arm and round, the first {WARMUP} untimed")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("overrides", nargs="*", help="after --: lit_digits fit arguments for every arm")
    args = parser.parse_args()
    if args.steps < WARMUP + 3:
        parser.error(f"--steps must be at least {WARMUP + 3}: the first {WARMUP} are not timed, nor is the last")
    torch.set_num_threads(1)
    for name in ("lightning.pytorch", "lightning.fabric"):  # each arm's Trainer would print its devices and seed
        logging.getLogger(name).setLevel(logging.ERROR)
    print(f"$ {' '.join(sys.argv)}", flush=True)
    rounds: list[dict[str, list[float]]] = []
    with tempfile.TemporaryDirectory() as root, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's hints about the arms' short, validation-free fits, and args=
        for round_ in range(args.rounds):
            clis = {name: configured(args.config, args.data_dir, args.batch_size, args.steps, root, args.overrides)
                    for name in ARMS}  # fmt: skip
            rounds.append(one_round(clis, args.steps))
            print(
                f"round {round_}: " + ", ".join(f"{n} {statistics.mean(rounds[-1][n]):.0f} us" for n in ARMS),
                flush=True,
            )
    print("\n| arm | us per step (mean) | over the previous arm: mean of the rounds ± standard error "
          "| each round's mean paired difference ± 95% interval |")  # fmt: skip
    print("| --- | --- | --- | --- |")
    for previous, name in zip([None, *ARMS], ARMS):
        mean = statistics.mean(statistics.mean(r[name]) for r in rounds)
        if previous is None:
            print(f"| {name} | {mean:.0f} | | |")
            continue
        differences = [difference(r[name], r[previous]) for r in rounds]
        overall = statistics.mean(d for d, _ in differences)
        error = (
            f" ± {statistics.stdev(d for d, _ in differences) / math.sqrt(len(rounds)):.0f}" if len(rounds) > 1 else ""
        )
        each = ", ".join(f"{d:+.0f} ± {h:.0f}" for d, h in differences)
        print(f"| {name} | {mean:.0f} | **{overall:+.0f}{error} us** | {each} us |")
    print(f"\nbatch {args.batch_size}, {args.steps - WARMUP - 1} timed steps per arm and round, 1 thread; {describe()}")


if __name__ == "__main__":
    main()
