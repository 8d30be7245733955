"""The ``lit_digits`` command line: Lightning's CLI over the package's recipes, ``report`` and ``serve``."""

from lit_digits.cli.lightning_cli import LitDigitsCLI
from lit_digits.cli.main import main

__all__ = ["LitDigitsCLI", "main"]
