"""``lit_digits export``'s work: a run's checkpoint to a new ONNX or pt2 file, checked against PyTorch."""

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from lit_digits.data import ImageDataModule
from lit_digits.errors import LitDigitsError
from lit_digits.export.deployed import DeployedClassifier
from lit_digits.export.formats import FORMATS, export, run_exported
from lit_digits.models import ImageClassifier
from lit_digits.runs.checkpoint_files import run_checkpoint
from lit_digits.runs.hold import LOCK_FILE

COMPARED_IMAGES = 256
"""Images of the test split (or random ones) on which the exported file is compared with PyTorch."""


@dataclass
class ExportedFile:
    """What ``export_checkpoint`` wrote: the file, what it takes and gives, and how close it is to PyTorch."""

    path: Path
    format: str
    image_shape: tuple[int, int, int]
    classes: tuple[str, ...]
    difference: float
    compared_on: str


def export_checkpoint(
    run: Path,
    out: Path | None = None,
    format: str | None = None,
    test_time_views: bool = False,
    data_dir: str | None = None,
    trusted_modules: Sequence[str] = (),
) -> ExportedFile:
    """Export the model of ``run`` (a run folder: its best.ckpt, else last.ckpt; or a checkpoint) as
    ``format`` (by default the one ``out``'s suffix names, else onnx) to ``out``, or to a new file named after the run in the current folder; then run the
    file on images of the test split (random ones where the data set is absent) and measure its
    largest difference from the PyTorch model."""
    if format is None:
        format = next((name for name, suffix in FORMATS.items() if out and out.suffix == suffix), "onnx")
    if format not in FORMATS:
        raise LitDigitsError(f"--format {format!r} is not a format; pick {' or '.join(FORMATS)}")
    checkpoint, run_dir = run_checkpoint(run)
    model = ImageClassifier.load_from_checkpoint(checkpoint, map_location="cpu", trusted_modules=trusted_modules)
    overrides = {"data_dir": data_dir} if data_dir else {}
    data = ImageDataModule.load_from_checkpoint(checkpoint, trusted_modules=trusted_modules, **overrides)
    deployed = DeployedClassifier(model.eval(), test_time_views).eval()
    path = checked_destination(out, format) if out else new_file(run_dir, checkpoint, format, test_time_views)
    images, compared_on = comparison_images(data)
    export(deployed, images[:2], path, format)
    with torch.no_grad():
        difference = (run_exported(path, images) - deployed(images)).abs().max().item()
    return ExportedFile(path, format, data.image_shape, data.classes, difference, compared_on)


def new_file(run_dir: Path, checkpoint: Path, format: str, test_time_views: bool) -> Path:
    """``RUNNAME-version_N-CHECKPOINT[-tta].SUFFIX`` in the current folder, numbered on where taken."""
    stem = f"{run_dir.parent.name}-{run_dir.name}-{checkpoint.stem}" + ("-tta" if test_time_views else "")
    names = (f"{stem}{f'-{n}' if n else ''}{FORMATS[format]}" for n in itertools.count())
    return next(Path(name) for name in names if not Path(name).exists())


def checked_destination(out: Path, format: str) -> Path:
    """``out``, once it is a new file with the format's suffix and outside every run folder (a run's
    files are its fit's)."""
    if out.suffix != FORMATS[format]:
        raise LitDigitsError(f"--out {out} should end in {FORMATS[format]} for --format {format}")
    if out.exists():
        raise LitDigitsError(f"{out} exists already; pass another --out (nothing is overwritten)")
    run_folder = next((folder for folder in out.absolute().parents if (folder / LOCK_FILE).exists()), None)
    if run_folder is not None:
        raise LitDigitsError(f"--out {out} is inside the run folder {run_folder}, whose files are its fit's; "
                             "pick a path outside it")  # fmt: skip
    return out


def comparison_images(data: ImageDataModule) -> tuple[torch.Tensor, str]:
    """Images in [0, 1] to compare the exported file with PyTorch on: the first of the test split
    where the data set can be read without a download, else random ones; and what they are, in words."""
    if data.readable_offline():
        data.prepare_data()
        data.setup("test")
        images = next(iter(data.test_dataloader()))[0][:COMPARED_IMAGES].float() / 255
        return images, f"{len(images)} test images"
    images = torch.rand((COMPARED_IMAGES, *data.image_shape), generator=torch.Generator().manual_seed(0))
    return images, f"{COMPARED_IMAGES} random images (no data set in {data.data_dir})"
