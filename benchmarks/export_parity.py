"""An exported checkpoint against PyTorch on the whole test split: accuracy and images per second.

    python benchmarks/export_parity.py runs/mnist/version_0 [runs/cifar_air/version_0 ...] \
        [--data_dir DIR] [--out DIR]

Each run is exported as ``lit_digits export`` does (ONNX, float32, no test-time views) into
``--out``; then the test split is classified by the PyTorch model and by onnxruntime, in the
data module's test batches, on the CPU. Prints one row per run: both accuracies, the largest difference between their
probabilities, and both throughputs (the median of two passes).
"""

import argparse
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import torch
from environment import describe

from lit_digits.export import DeployedClassifier, run_exported
from lit_digits.export.checkpoint_export import export_checkpoint
from lit_digits.report.runs import load_for_test
from lit_digits.runs.checkpoint_files import run_checkpoint


def classify(predict, batches) -> tuple[torch.Tensor, float]:
    """``predict``'s probabilities for every batch, and the images per second of the faster of two passes."""
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        probabilities = torch.cat([predict(images) for images in batches])
        seconds.append(time.perf_counter() - start)
    return probabilities, len(probabilities) / statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+", help="run folders or checkpoints")
    parser.add_argument("--data_dir", help="where the data sets are, if not where the runs had them")
    parser.add_argument("--out", type=Path, help="folder for the exported files (default: a temporary one)")
    args = parser.parse_args()
    print(f"$ {' '.join(sys.argv)}\n{describe()}; threads {torch.get_num_threads()}\n", flush=True)
    print("| run | test accuracy, PyTorch | test accuracy, onnxruntime | largest difference | images/s, PyTorch "
          "| images/s, onnxruntime |\n| --- | --- | --- | --- | --- | --- |")  # fmt: skip
    out = args.out or Path(tempfile.mkdtemp())
    for run in args.runs:
        onnx = out / f"{run.parent.name}-{run.name}.onnx"
        export_checkpoint(run, onnx, "onnx", data_dir=args.data_dir)
        model, datamodule = load_for_test(run_checkpoint(run)[0], args.data_dir)
        deployed = DeployedClassifier(model).eval()
        test = list(datamodule.test_dataloader())  # the data module's batches, as report reads them
        batches, labels = [images.float() / 255 for images, _ in test], torch.cat([labels for _, labels in test])
        with torch.no_grad():
            torch_probs, torch_rate = classify(deployed, batches)
        onnx_probs, onnx_rate = classify(partial(run_exported, onnx), batches)
        accuracies = [100 * (probs.argmax(-1) == labels).float().mean().item() for probs in (torch_probs, onnx_probs)]
        difference = (torch_probs - onnx_probs).abs().max().item()
        print(f"| {run} | {accuracies[0]:.2f}% | {accuracies[1]:.2f}% | {difference:.1e} | {torch_rate:,.0f} "
              f"| {onnx_rate:,.0f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
