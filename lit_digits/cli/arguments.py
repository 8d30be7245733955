"""Settings that Lightning takes without a word and then cannot run with, and config files
that its parser cannot read."""

from collections.abc import Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from lit_digits.errors import LitDigitsError

AT_LEAST_ONE = ("accumulate_grad_batches", "check_val_every_n_epoch", "num_nodes")
"""Counts that Lightning divides by, or loops over, once training has started."""

SEEDS = range(2**32)
"""The seeds ``seed_everything`` can give NumPy."""


def check_trainer_settings(trainer: Mapping[str, Any]) -> None:
    """Refuse, in one line, the values that would fail mid-run with a traceback."""
    for name in AT_LEAST_ONE:
        value = trainer.get(name)
        if value is not None and value < 1:
            raise LitDigitsError(f"--trainer.{name} must be at least 1, got {value}")
    interval = trainer.get("val_check_interval")
    if interval is not None and interval <= 0:
        raise LitDigitsError(
            f"--trainer.val_check_interval must be > 0 (a fraction of an epoch, or a number of steps), got {interval}"
        )


def check_seed(seed: Any) -> None:
    """``--seed_everything`` takes a whole number from 0 to 2**32 - 1 (or true, for a random one)."""
    if isinstance(seed, int) and not isinstance(seed, bool) and seed not in SEEDS:
        raise LitDigitsError(f"--seed_everything must be from 0 to {SEEDS[-1]} (or true for a random seed), got {seed}")


def check_config_files(args: Sequence[str]) -> None:
    """Each ``--config FILE`` among ``args`` is UTF-8 text, as YAML must be (the parser would end
    in a ``UnicodeDecodeError`` traceback, naming no file), and the first one is a whole recipe,
    not a variant that only changes one (its ``model`` or ``data`` naming no ``class_path``)."""
    given = [option.removeprefix("--config=") if option.startswith("--config=") else value
             for option, value in pairwise([*args, ""]) if option in ("--config", "-c") or option.startswith("--config=")]  # fmt: skip
    files = [path for path in map(Path, given) if path.is_file()]  # else a YAML string, or a path the parser refuses
    for path in files:
        try:
            text = path.read_bytes().decode()
        except UnicodeDecodeError as err:
            raise LitDigitsError(
                f"config {path} is not UTF-8 text (byte {err.start}: {err.reason}); it is damaged, "
                "or not a YAML file: fix it or pass another"
            ) from None
        if path == files[0] and _changes_a_recipe(text):
            raise LitDigitsError(
                f"config {path} changes a recipe but names none (its model or data has no class_path): pass the "
                f"recipe it changes first, --config BASE.yaml --config {path} (its first lines name BASE)"
            )


def _changes_a_recipe(text: str) -> bool:
    """Whether the YAML ``text`` is a variant: a ``model`` or ``data`` section of ``init_args`` alone."""
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError:
        return False  # the parser says what is wrong with it
    sections = [config.get(key) for key in ("model", "data")] if isinstance(config, dict) else []
    return any(isinstance(section, dict) and "init_args" in section and "class_path" not in section
               for section in sections)  # fmt: skip
