"""The pictures of a finished run: its curves and learning rates, its mistakes and confusion matrix."""

import logging
import math
from collections.abc import Sequence
from pathlib import Path

import torch
from torchmetrics.classification import MulticlassConfusionMatrix

from lit_digits.checkpoints import read_checkpoint
from lit_digits.data import ImageDataModule
from lit_digits.models import ImageClassifier
from lit_digits.precision import choose_precision, recorded_precision
from lit_digits.report.pictures import plot_confusion, plot_curves, plot_learning_rate, plot_mistakes
from lit_digits.runs.checkpoint_files import run_checkpoint
from lit_digits.runs.metrics_csv import read_metrics

log = logging.getLogger(__name__)


def run_report(run: Path, out: Path | None, data_dir: str | None, trusted_modules: Sequence[str] = ()) -> list[Path]:
    """All pictures of a finished run: from its metrics.csv and from its checkpoint on the test split
    (``trusted_modules``: packages of your own whose classes the checkpoint may name)."""
    checkpoint, run_dir = run_checkpoint(run)
    out = out or run_dir / "report"
    metrics_csv = run_dir / "metrics.csv"
    written = metrics_pictures(metrics_csv, out) if metrics_csv.is_file() else []
    images, labels, probs, classes = evaluate(checkpoint, data_dir, trusted_modules)
    written.append(plot_mistakes(images, labels, probs, classes, out / "mistakes.png"))
    confusion = MulticlassConfusionMatrix(len(classes))(probs, labels)
    written.append(plot_confusion(confusion, classes, out / "confusion.png"))
    return written


def metrics_pictures(metrics_csv: Path, out: Path) -> list[Path]:
    """The curves and logged learning rates of what is sound in ``metrics_csv``; what was
    skipped as damaged is named in one note."""
    metrics, skipped = read_metrics(metrics_csv)
    if skipped:
        shown = "; ".join(skipped[:3]) + ("; ..." if len(skipped) > 3 else "")
        log.warning(f"{metrics_csv}: skipped {len(skipped)} damaged line(s) or value(s) ({shown}); drawing the rest")
    written = [plot_curves(metrics, out / "metrics.png")] if metrics else []
    columns = [c for c in metrics if c.startswith("lr-")]
    if columns:  # written together, at the logging steps
        steps = sorted({step for c in columns for step in metrics[c]})
        rates = {c: [metrics[c].get(step, math.nan) for step in steps] for c in columns}
        written.append(plot_learning_rate(steps, rates, out / "lr_schedule.png", "learning rates as logged"))
    return written


@torch.inference_mode()
def evaluate(
    checkpoint: Path, data_dir: str | None, trusted_modules: Sequence[str] = ()
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, tuple[str, ...]]:
    """The checkpoint's class probabilities on its data set's test split: images, labels, probs, class
    names. In bf16 autocast where its recipe asked for it and this CPU runs it natively
    (``choose_precision``, which says so in one line)."""
    model, datamodule = load_for_test(checkpoint, data_dir, trusted_modules)
    precision = choose_precision("cpu", None, (recorded_precision(read_checkpoint(checkpoint)) or {}).get("recipe"))
    precision.announce()
    batches = list(datamodule.test_dataloader())
    images, labels = torch.cat([x for x, _ in batches]), torch.cat([y for _, y in batches])
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision.precision == "bf16-mixed"):
        probs = torch.cat([model(x.float() / 255).float().softmax(-1) for x, _ in batches])
    return images, labels, probs, datamodule.classes


def load_for_test(
    checkpoint: Path, data_dir: str | None, trusted_modules: Sequence[str] = ()
) -> tuple[ImageClassifier, ImageDataModule]:
    """The checkpoint's model (on the CPU, in evaluation mode) and its data module, set up for
    the test split (``data_dir`` overrides where the run had the data); each of the classes the
    checkpoint names is checked first (``lit_digits.checkpoints``)."""
    model = ImageClassifier.load_from_checkpoint(checkpoint, map_location="cpu", trusted_modules=trusted_modules)
    overrides = {"data_dir": data_dir} if data_dir else {}
    datamodule = ImageDataModule.load_from_checkpoint(checkpoint, trusted_modules=trusted_modules, **overrides)
    datamodule.prepare_data()
    datamodule.setup("test")
    return model.eval(), datamodule
