"""The pictures of a finished run: its curves and learning rates, its mistakes and confusion matrix."""

import logging
import math
from pathlib import Path

import torch
from torchmetrics.classification import MulticlassConfusionMatrix

from lit_digits.data import ImageDataModule
from lit_digits.errors import LitDigitsError
from lit_digits.models import ImageClassifier
from lit_digits.precision import choose_precision, recorded_precision
from lit_digits.report.pictures import plot_confusion, plot_curves, plot_learning_rate, plot_mistakes
from lit_digits.runs.checkpoint_files import load_safely
from lit_digits.runs.metrics_csv import read_metrics

log = logging.getLogger(__name__)


def run_report(run: Path, out: Path | None, data_dir: str | None) -> list[Path]:
    """All pictures of a finished run: from its metrics.csv and from its checkpoint on the test split."""
    checkpoint, run_dir = _locate(run)
    out = out or run_dir / "report"
    metrics_csv = run_dir / "metrics.csv"
    written = metrics_pictures(metrics_csv, out) if metrics_csv.is_file() else []
    images, labels, probs, classes = evaluate(checkpoint, data_dir)
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


def _locate(run: Path) -> tuple[Path, Path]:
    """(checkpoint, run folder) for a run folder or a checkpoint inside one."""
    if run.is_file():
        return run, run.parent.parent
    for name in ("best.ckpt", "last.ckpt"):
        if (run / "checkpoints" / name).is_file():
            return run / "checkpoints" / name, run
    raise LitDigitsError(f"{run} is neither a checkpoint nor a run folder with checkpoints/best.ckpt or last.ckpt")


@torch.inference_mode()
def evaluate(
    checkpoint: Path, data_dir: str | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, tuple[str, ...]]:
    """The checkpoint's class probabilities on its data set's test split: images, labels, probs, class
    names. In bf16 autocast where its recipe asked for it and this CPU runs it natively
    (``choose_precision``, which says so in one line)."""
    model, datamodule = load_for_test(checkpoint, data_dir)
    precision = choose_precision("cpu", None, (recorded_precision(checkpoint) or {}).get("recipe"))
    precision.announce()
    batches = list(datamodule.test_dataloader())
    images, labels = torch.cat([x for x, _ in batches]), torch.cat([y for _, y in batches])
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision.precision == "bf16-mixed"):
        probs = torch.cat([model(x.float() / 255).float().softmax(-1) for x, _ in batches])
    return images, labels, probs, datamodule.classes


def load_for_test(checkpoint: Path, data_dir: str | None) -> tuple[ImageClassifier, ImageDataModule]:
    """The checkpoint's model (on the CPU, in evaluation mode) and its data module, set up for
    the test split (``data_dir`` overrides where the run had the data)."""
    checkpoint_dict = load_safely(checkpoint)
    model_class = _imported_subclass(ImageClassifier, checkpoint_dict.get("hyper_parameters", {}), checkpoint)
    data_class = _imported_subclass(ImageDataModule, checkpoint_dict.get("datamodule_hyper_parameters", {}), checkpoint)
    model = model_class.load_from_checkpoint(checkpoint, map_location="cpu", weights_only=True).eval()
    overrides = {"data_dir": data_dir} if data_dir else {}
    datamodule = data_class.load_from_checkpoint(checkpoint, weights_only=True, **overrides)
    datamodule.prepare_data()
    datamodule.setup("test")
    return model, datamodule


def _imported_subclass(base: type, hyper_parameters: dict, checkpoint: Path) -> type:
    """The already imported subclass of ``base`` whose class path the checkpoint names."""
    class_path = hyper_parameters.get("_class_path", "")
    name = class_path.rsplit(".", 1)[-1]
    found, pending = [], [base]
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if name and cls.__name__ == name:
            found.append(cls)
    if not found:
        raise LitDigitsError(
            f"{checkpoint} names no {base.__name__} of lit_digits (class path {class_path!r}); "
            "report reads checkpoints written by lit_digits fit"
        )
    return found[0]
