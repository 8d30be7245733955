"""``lit_digits serve``: a trained model as an HTTP service (LitServe)."""

import argparse
import importlib.util
import math
from collections.abc import Callable

from lit_digits.cli.run_parser import run_parser
from lit_digits.errors import LitDigitsError
from lit_digits.serve import BATCH_TIMEOUT, MAX_BATCH_SIZE

USAGE = ("lit_digits serve RUN_DIR_OR_CHECKPOINT [--host HOST] [--port N] [--max_batch_size N] "
         "[--batch_timeout SECONDS] [--trusted_modules PACKAGE ...]")  # fmt: skip
HOSTS = ("127.0.0.1", "0.0.0.0", "::")
"""The addresses LitServe listens on: this machine only, or every IPv4 / IPv6 interface."""


def serve_command(argv: list[str]) -> None:
    """Serve the run's checkpoint until Ctrl-C or SIGTERM."""
    parser = run_parser(
        "lit_digits serve",
        USAGE,
        "Serve a run's model (runs/<config>/version_N: its checkpoints/best.ckpt, else last.ckpt; "
        "or a checkpoint file) over HTTP with LitServe: POST /predict with an image file as the multipart form "
        'field "image" (curl -F image=@digit.png http://127.0.0.1:8000/predict) or as JSON {"image": "<base64 of '
        'the file>"} answers {"class": index, "name": class name, "probabilities": [...]}; GET /health answers '
        "ok. Requests that arrive within --batch_timeout of each other are classified in one batch.",
    )
    add_address(parser, default_port=8000)
    parser.add_argument("--max_batch_size", type=number_in(int, 1), default=MAX_BATCH_SIZE, metavar="N",
                        help="the most requests classified in one batch (default: %(default)s; 1: no batching)")  # fmt: skip
    parser.add_argument("--batch_timeout", type=number_in(float, 0), default=BATCH_TIMEOUT, metavar="SECONDS",
                        help="how long a batch waits to fill (default: %(default)s)")  # fmt: skip
    args = parser.parse_args(argv)
    serve_modules("serve")
    from lit_digits.serve.server import serve  # the serve extra's packages, imported only by this command

    serve(args.run, args.host, args.port, args.trusted_modules, args.max_batch_size, args.batch_timeout)


SERVE_MODULES = {"LitServe": "litserve", "python-multipart": "python_multipart"}
"""What the serve extra gives ``serve`` and ``demo``, by name, with the module that provides it."""


def add_address(parser: argparse.ArgumentParser, default_port: int | None) -> None:
    """``--host`` and ``--port`` (None: a free one) of a command that listens."""
    parser.add_argument("--host", default="127.0.0.1", choices=HOSTS,
                        help="listen on this machine only (the default) or on every interface")  # fmt: skip
    parser.add_argument("--port", type=number_in(int, 1024, 65535), default=default_port, metavar="N",
                        help=f"the port, 1024 to 65535 (default: {default_port or 'a free one'})")  # fmt: skip


def serve_modules(command: str) -> None:
    """Raise ``LitDigitsError`` unless what ``command`` needs from the serve extra is installed: LitServe,
    and python-multipart, with which Starlette reads a posted form (the demo page's images, ``curl -F``;
    without it each such request fails, and only JSON ones are read)."""
    missing = [name for name, module in SERVE_MODULES.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise LitDigitsError(
            f'lit_digits {command} needs {" and ".join(missing)}: pip install -e ".[serve]" in a checkout, '
            'or pip install "lit_digits[serve]"'
        )


def number_in(kind: type[int] | type[float], low: float, high: float = math.inf) -> Callable[[str], int | float]:
    """An argument type: a ``kind`` from ``low`` to ``high``."""

    def convert(text: str) -> int | float:
        value = kind(text)
        if not low <= value <= high:
            bounds = f"at least {low}" if high == math.inf else f"from {low} to {high}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {text}")
        return value

    convert.__name__ = kind.__name__  # argparse names it in "invalid int value"
    return convert
