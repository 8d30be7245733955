"""A callback the DDP test loads into ``lit_digits fit``: records what each rank saw."""

import json
import os
from pathlib import Path

import torch
from lightning.pytorch import Callback

from lit_digits import LitDigitsError
from lit_digits.runs.hold import RunHold


class RecordSamples(Callback):
    """Writes ``rank<N>.json``: training sample indices (decoded from pixels 0 and 1 of each
    image, where the test data stores them), the losses its steps returned, the model's training
    sums of the (last) epoch, validation images classified correctly, its pid, and how a hold of
    the run folder that it tries itself at the start of training is answered; writes
    ``written_by_rank<N>`` into the run folder it was given."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir = Path(out_dir)
        self.indices: list[int] = []
        self.correct = 0
        self.seen = 0
        self.training: dict[str, float] = {}
        self.step_losses: list[float] = []
        self.second_hold = ""

    def on_train_start(self, trainer, pl_module) -> None:
        folder = Path(trainer.checkpoint_callback.dirpath).parent  # the run folder, as this process was given it
        (folder / f"written_by_rank{trainer.global_rank}").write_text(f"{os.getpid()}\n")
        try:
            RunHold(folder).release()
            self.second_hold = "taken"
        except LitDigitsError as refused:
            self.second_hold = str(refused)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        pixels = (batch[0][:, 0, 0, :2] * 255).round().long()
        self.indices += (pixels[:, 0] + 256 * pixels[:, 1]).tolist()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.step_losses.append(float(outputs["loss"]))

    def on_train_epoch_end(self, trainer, pl_module) -> None:  # before the model logs the epoch
        figures = pl_module.figures
        self.training = {"loss_sum": float(figures.loss_sum), "batches": figures.counts["batches"],
                         "correct": int(figures.correct), "images": figures.counts["images"]}  # fmt: skip

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if trainer.sanity_checking:
            return
        with torch.no_grad():
            self.correct += int((pl_module(batch[0]).argmax(-1) == batch[1]).sum())
        self.seen += len(batch[1])

    def on_fit_end(self, trainer, pl_module) -> None:
        record = {"indices": self.indices, "correct": self.correct, "seen": self.seen, "training": self.training,
                  "step_losses": self.step_losses, "pid": os.getpid(), "second_hold": self.second_hold}  # fmt: skip
        (self.out_dir / f"rank{trainer.global_rank}.json").write_text(json.dumps(record))
