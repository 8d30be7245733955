"""``lit_digits report``: the pictures of a finished run, or of a recipe's schedule before training."""

import argparse
import logging
import math
import pickle
import warnings
from pathlib import Path

import torch
from torchmetrics.classification import MulticlassConfusionMatrix

from lit_digits.data import ImageDataModule
from lit_digits.errors import LitDigitsError
from lit_digits.models import ImageClassifier
from lit_digits.optim.groups import learning_rate_names
from lit_digits.report.pictures import plot_confusion, plot_curves, plot_learning_rate, plot_mistakes
from lit_digits.runs.metrics_csv import read_metrics

log = logging.getLogger(__name__)

USAGE = """lit_digits report RUN_DIR_OR_CHECKPOINT [--out DIR] [--data_dir DIR]
       lit_digits report --config CONFIG [--model.* ... overrides] [--out DIR]"""


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="lit_digits report",
        usage=USAGE,
        description="Write PNG pictures of a run (runs/<config>/version_N or one of its checkpoints): "
        "loss and accuracy per epoch, the learning rate per step, the test images with the most "
        "confident mistakes first, the confusion matrix and per-class accuracy. With --config and "
        "no run: the recipe's learning-rate schedule, before training.",
    )
    parser.add_argument("run", type=Path, help="a run folder or a checkpoint file")
    parser.add_argument("--out", type=Path, help="folder for the PNGs (default: RUN/report, or . with --config)")
    parser.add_argument("--data_dir", help="where the data set is, if not where the run had it")
    if "--config" in argv:
        out_option = argparse.ArgumentParser(add_help=False)
        out_option.add_argument("--out", type=Path, default=Path("."))
        known, config_args = out_option.parse_known_args(argv)
        written = [planned_learning_rate(config_args, known.out)]
    else:
        args = parser.parse_args(argv)
        written = run_report(args.run, args.out, args.data_dir)
    for path in written:
        print(path)


def planned_learning_rate(config_args: list[str], out: Path) -> Path:
    """The learning rate at every step of the configured recipe, without training."""
    from lit_digits.cli import LitDigitsCLI

    with warnings.catch_warnings():  # Lightning warns when args and sys.argv both hold arguments
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter")
        cli = LitDigitsCLI(args=config_args, run=False)
    epochs = cli.trainer.max_epochs
    steps_per_epoch = cli.datamodule.planned_steps_per_epoch(cli.trainer.num_devices)
    steps = range(steps_per_epoch * epochs)
    optimizer, scheduler = cli.model.optimizer_and_scheduler(steps_per_epoch, epochs)
    rates = {
        name: [base * rate(step) for step in steps]
        for name, base, rate in zip(learning_rate_names(optimizer), scheduler.base_lrs, scheduler.lr_lambdas)
    }
    title = f"{cli.run_name()} ({type(cli.model).__name__}): {epochs} epochs x {steps_per_epoch} steps"
    return plot_learning_rate(list(steps), rates, out / "lr_schedule.png", title)


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
    """The checkpoint's class probabilities on its data set's test split: images, labels, probs, class names."""
    model, datamodule = load_for_test(checkpoint, data_dir)
    batches = list(datamodule.test_dataloader())
    images, labels = torch.cat([x for x, _ in batches]), torch.cat([y for _, y in batches])
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


def load_safely(checkpoint: Path) -> dict:
    """The checkpoint's contents, unpickled with ``weights_only`` (tensors and plain data, no code)."""
    try:
        return torch.load(checkpoint, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise LitDigitsError(
            f"{checkpoint} holds objects other than tensors and plain data, which could run code when "
            "loaded, so it was not loaded; use a checkpoint written by lit_digits fit"
        ) from err
    except (RuntimeError, EOFError, ValueError, OSError) as err:
        raise LitDigitsError(
            f"{checkpoint} is truncated or not a PyTorch checkpoint; pass a .ckpt written by lit_digits fit"
        ) from err


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
