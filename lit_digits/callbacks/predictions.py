"""Printing what ``lit_digits predict`` found: file, predicted class, probability."""

from collections.abc import Sequence
from typing import Any

import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import BasePredictionWriter


class PrintPredictions(BasePredictionWriter):
    """Prints one tab-separated line per image: path, class name, probability."""

    def __init__(self) -> None:
        super().__init__(write_interval="batch")

    def write_on_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        prediction: torch.Tensor,
        batch_indices: Sequence[int] | None,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int,
    ) -> None:
        datamodule = trainer.datamodule
        probability, label = prediction.max(dim=-1)
        for index, p, c in zip(batch[1].tolist(), probability.tolist(), label.tolist()):
            print(f"{datamodule.predict_files.paths[index]}\t{datamodule.classes[c]}\t{p:.4f}", flush=True)
