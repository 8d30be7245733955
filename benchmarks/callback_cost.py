"""What each of a run's callbacks costs a training step on the host, measured alone.

    python benchmarks/callback_cost.py --config configs/mnist.yaml --data_dir DIR \
        [--calls 20000] [-- --trainer.callbacks+=... overrides]

Lightning calls every callback at each of a training step's six callback hooks
(``on_train_batch_start`` ... ``on_train_batch_end``), whether it has work there or not.
This builds the config's Trainer as ``lit_digits fit`` does, trains a few steps, then
calls those six hooks ``--calls`` times through Lightning's own dispatcher (its private
``_call_callback_hooks``: the cost measured is its work, a profiler label and a context per
call, as much as the hooks'), once with no callback and once with each callback alone.
Best of five repeats, one thread. A progress bar's redraws, at most ten a second, are
rare here; ``step_overhead.py`` measures whole steps. The progress display is the one a run
started here gets: the bar (``TimedProgressBar``) where stdout is a terminal, else a line per
epoch (``EpochLines``, which has no step hook).
"""

import argparse
import contextlib
import io
import logging
import tempfile
import timeit
import warnings

import torch
from environment import describe
from lightning.pytorch.trainer.call import _call_callback_hooks
from step_overhead import configured

from lit_digits.data import DEFAULT_DATA_DIR

STEPS = 30


def per_step_hooks(trainer, batch) -> None:
    """A training step's callback hooks, in Lightning's order."""
    loss = torch.zeros(())
    optimizer = trainer.optimizers[0]
    _call_callback_hooks(trainer, "on_train_batch_start", batch, 1)
    _call_callback_hooks(trainer, "on_before_backward", loss)
    _call_callback_hooks(trainer, "on_after_backward")
    _call_callback_hooks(trainer, "on_before_optimizer_step", optimizer)
    _call_callback_hooks(trainer, "on_before_zero_grad", optimizer)
    _call_callback_hooks(trainer, "on_train_batch_end", {"loss": loss}, batch, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--data_dir", default=DEFAULT_DATA_DIR, help="the data sets, in torchvision's layout")
    parser.add_argument("--calls", type=int, default=20000, help="calls of the six hooks per repeat")
    parser.add_argument("overrides", nargs="*", help="after --: lit_digits fit arguments")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as root, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's hints about a short, validation-free fit, and args=
        cli = configured(args.config, args.data_dir, 4, STEPS, root, args.overrides)
        with contextlib.redirect_stdout(io.StringIO()):  # the progress bar
            cli.trainer.fit(cli.model, cli.datamodule)
        trainer, batch = cli.trainer, next(iter(cli.datamodule.train_dataloader()))
        callbacks = list(trainer.callbacks)
        print("| callbacks | us per step (six hook calls) | over none |\n| --- | --- | --- |")
        baseline = None
        for name, chosen in [("none", []), *((type(c).__name__, [c]) for c in callbacks)]:
            trainer.callbacks = chosen
            seconds = min(timeit.repeat(lambda: per_step_hooks(trainer, batch), number=args.calls, repeat=5))
            micros = 1e6 * seconds / args.calls
            baseline = micros if baseline is None else baseline
            print(f"| {name} | {micros:.1f} | {micros - baseline:+.1f} |")
        trainer.callbacks = callbacks
    print(f"\n{args.calls} calls, best of 5, 1 thread; {describe()}")


if __name__ == "__main__":
    main()
