"""What the weight average and flip TTA cost and gain: a trained checkpoint's test accuracy and
evaluation time with each switched on and off.

    python benchmarks/evaluation_tricks.py runs/cifar_fast/version_0/checkpoints/last.ckpt \
        [--data_dir DIR] [--rounds 2]

Evaluates on the test split, on the CPU, in this process: the trained weights or their
moving average (where the checkpoint has one), each without and with flip test-time
augmentation. Times are medians of ``--rounds`` passes over the test split.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from environment import describe

from lit_digits.models import AveragedViews, WeightAverage
from lit_digits.report.runs import load_for_test


@torch.no_grad()
def test_pass(model, batches) -> tuple[float, float]:
    """Test accuracy (%) and seconds of one pass over ``batches``."""
    start, correct, total = time.perf_counter(), 0, 0
    for x, y in batches:
        correct += int((model(x.float() / 255).argmax(-1) == y).sum())
        total += len(y)
    return 100 * correct / total, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--data_dir")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"$ {' '.join(sys.argv)}\n{describe()}\n", flush=True)
    model, datamodule = load_for_test(args.checkpoint, args.data_dir)
    batches = list(datamodule.test_dataloader())
    kept = [t for t in model.techniques if not isinstance(t, WeightAverage | AveragedViews)]
    averages = [t for t in model.techniques if isinstance(t, WeightAverage)]
    print("| weights | flip TTA | test accuracy | evaluation time |\n| --- | --- | --- | --- |")
    for weights in ["trained", "moving average"] if averages else ["trained"]:
        for tta in (False, True):
            views = [AveragedViews(flip=True)] if tta else []
            model.techniques = kept + (averages if weights == "moving average" else []) + views
            runs = [test_pass(model, batches) for _ in range(args.rounds)]
            seconds = statistics.median(s for _, s in runs)
            print(f"| {weights} | {'on' if tta else 'off'} | {runs[0][0]:.2f}% | {seconds:.1f} s |", flush=True)


if __name__ == "__main__":
    main()
