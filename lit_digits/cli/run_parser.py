"""The arguments of a command on a finished run (``report``, ``serve``): the run and the modules it may name."""

from pathlib import Path

from lit_digits.cli.parser_errors import OneLineArgumentParser


def run_parser(prog: str, usage: str, description: str) -> OneLineArgumentParser:
    """A parser taking ``RUN`` (a run folder or a checkpoint file) and ``--trusted_modules``."""
    parser = OneLineArgumentParser(prog=prog, usage=usage, description=description)
    parser.add_argument("run", type=Path, help="a run folder or a checkpoint file")
    parser.add_argument("--trusted_modules", nargs="+", default=[], metavar="PACKAGE",
                        help="packages of your own whose classes the checkpoint may name (besides lit_digits', "
                        "torch's and torchvision's)")  # fmt: skip
    return parser
