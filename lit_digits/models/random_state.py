"""What a recipe module adds to its checkpoints: its class's name, and the random state, so that a
resumed run draws what it would have drawn."""

from typing import Any

import torch

from lit_digits.errors import LitDigitsError


def save_run_state(checkpoint: dict[str, Any], model: object) -> None:
    """Record ``model``'s class name and the random state."""
    checkpoint["lit_digits_model"] = type(model).__name__
    save_random_state(checkpoint)


def restore_run_state(checkpoint: dict[str, Any], model: object) -> None:
    """Refuse a checkpoint of another recipe class than ``model``'s; restore the random state."""
    saved, name = checkpoint.get("lit_digits_model"), type(model).__name__
    if saved is not None and saved != name:
        raise LitDigitsError(f"the checkpoint holds a {saved}, not a {name}; use the config (or --model) it was "
                             "trained with")  # fmt: skip
    restore_random_state(checkpoint)


def save_random_state(checkpoint: dict[str, Any]) -> None:
    """Record torch's random state (and CUDA's, where there is one) under ``rng_states``."""
    checkpoint["rng_states"] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        checkpoint["rng_states"]["cuda"] = torch.cuda.get_rng_state_all()


def restore_random_state(checkpoint: dict[str, Any]) -> None:
    """Restore what ``save_random_state`` recorded: same shuffling, augmentation draws and dropout
    as if the run had never stopped (CUDA's only on as many devices as it was saved from)."""
    states = checkpoint.get("rng_states", {})
    if "torch" in states:
        torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.device_count() == len(states["cuda"]):
        torch.cuda.set_rng_state_all(states["cuda"])
