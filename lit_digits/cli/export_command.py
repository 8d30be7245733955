"""``lit_digits export``: a trained model as an ONNX file or a ``torch.export`` program."""

from pathlib import Path

from lit_digits.cli.run_parser import run_parser
from lit_digits.export import FORMATS
from lit_digits.export.checkpoint_export import export_checkpoint

USAGE = ("lit_digits export RUN_DIR_OR_CHECKPOINT [--format onnx|pt2] [--out FILE] [--tta] [--data_dir DIR] "
         "[--trusted_modules PACKAGE ...]")  # fmt: skip


def export_command(argv: list[str]) -> None:
    """Write the file and print what it is: its path and size, its input and output, and its
    largest difference from the PyTorch model."""
    parser = run_parser(
        "lit_digits export",
        USAGE,
        "Write a run's trained network, with its input normalization, as a file that takes raw "
        "images in [0, 1] (N x C x H x W, float32, any N) and gives class probabilities (N x classes): ONNX "
        "(onnxruntime, onnxruntime-web) or a torch.export program (torch.export.load). The weight average is "
        "exported where the run kept one.",
    )
    parser.add_argument("--format", choices=list(FORMATS), help="onnx or pt2 (default: --out's suffix, else onnx)")
    parser.add_argument("--out", type=Path, help="the new file (default: RUN-version_N-CHECKPOINT.onnx here)")
    parser.add_argument("--tta", action="store_true", help="compute the recipe's test-time views in the file too")
    parser.add_argument("--data_dir", help="where the data set is, if not where the run had it")
    args = parser.parse_args(argv)
    exported = export_checkpoint(args.run, args.out, args.format, args.tta, args.data_dir, args.trusted_modules)
    channels, height, width = exported.image_shape
    classes = len(exported.classes)
    print(f"wrote {exported.path} ({exported.format}, {exported.path.stat().st_size / 1e6:.2f} MB)")
    print(f"  input   images: N x {channels} x {height} x {width} float32, pixels in [0, 1], any N")
    print(f"  output  probabilities: N x {classes} float32, softmax over {', '.join(exported.classes)}")
    print(f"  largest difference from PyTorch: {exported.difference:.1e} on {exported.compared_on}")
