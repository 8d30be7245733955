"""Writing a ``DeployedClassifier`` as ONNX or as a ``torch.export`` program, and running the file back."""

import contextlib
import logging
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from torch import nn

from lit_digits.errors import LitDigitsError

FORMATS = {"onnx": ".onnx", "pt2": ".pt2"}
"""The formats, by name, with their file suffix."""

SERVE_EXTRA = 'pip install "lit_digits[serve]" (in a clone: pip install -e ".[serve]")'
INPUT, OUTPUT = "images", "probabilities"


def export(module: nn.Module, example: torch.Tensor, path: Path, format: str) -> None:
    """Write ``module`` (traced on ``example``, a batch of two or more images) to the new file
    ``path`` as ``format``, for any batch size; an existing file is never replaced."""
    module.eval()
    dynamic = {INPUT: {0: torch.export.Dim("batch", min=1)}}
    with torch.inference_mode(False), torch.no_grad():
        program = torch.export.export(module, (example,), dynamic_shapes=dynamic)
    if format == "pt2":
        write_new(path, lambda partial: torch.export.save(program, partial))
        return
    onnx = _import("onnx")
    _import("onnxscript")  # torch's ONNX exporter translates with it
    with _quiet("torch.onnx"):
        onnx_program = torch.onnx.export(program, dynamo=True, input_names=[INPUT], output_names=[OUTPUT],
                                         external_data=False, verbose=False)  # fmt: skip

    def save_checked(partial: Path) -> None:
        onnx_program.save(partial, external_data=False)
        onnx.checker.check_model(str(partial), full_check=True)

    write_new(path, save_checked)


def run_exported(path: Path, images: torch.Tensor) -> torch.Tensor:
    """What the exported file at ``path`` computes for ``images``: onnxruntime for ONNX, the
    loaded program for pt2."""
    if path.suffix == FORMATS["pt2"]:
        with warnings.catch_warnings(), torch.no_grad():  # it reads the weights from a read-only buffer, unchanged
            warnings.filterwarnings("ignore", message="The given buffer is not writable")
            return torch.export.load(path).module()(images)
    runtime = _import("onnxruntime")
    session = runtime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return torch.from_numpy(session.run([OUTPUT], {INPUT: images.numpy()})[0])


def write_new(path: Path, write: Callable[[Path], None]) -> None:
    """``write`` to a temporary file beside ``path``, then link it as ``path``, which must not exist:
    a failed write leaves nothing, and no existing file is replaced, even one made meanwhile."""
    partial = path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")  # torch.export.save wants .pt2
    try:
        write(partial)
        os.link(partial, path)
    except FileExistsError:
        raise LitDigitsError(f"{path} exists already; pass another --out (nothing is overwritten)") from None
    finally:
        partial.unlink(missing_ok=True)


def _import(name: str):
    try:
        return __import__(name)
    except ImportError:
        raise LitDigitsError(f"ONNX export needs the {name} package: {SERVE_EXTRA}") from None


@contextlib.contextmanager
def _quiet(logger: str) -> Iterator[None]:
    """``logger``'s notes and warnings held back (the ONNX exporter's notes on operators it does not use)."""
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)
