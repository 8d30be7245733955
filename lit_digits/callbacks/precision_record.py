"""The precision a run trains in, recorded in its checkpoints."""

from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer

from lit_digits.precision import CHECKPOINT_KEY


class PrecisionRecord(Callback):
    """Writes ``record`` (``PrecisionChoice.record``: the precision, the recipe's, the hardware)
    into every checkpoint under ``CHECKPOINT_KEY``, so that a resume on the same processor keeps
    the run's precision and one on another says when it changes."""

    def __init__(self, record: dict[str, str]) -> None:
        self.record = record

    def on_save_checkpoint(self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict[str, Any]) -> None:
        checkpoint[CHECKPOINT_KEY] = dict(self.record)
