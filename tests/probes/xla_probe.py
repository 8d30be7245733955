"""A callback the XLA tests load into ``lit_digits fit``: counts host reads and graph runs per training step."""

from lightning.pytorch import Callback


def _count(name: str) -> int:
    import torch_xla.debug.metrics as met

    data = met.metric_data(name)
    return int(data[0]) if data else 0


class CountPerStep(Callback):
    """From batch ``start`` of the last epoch to its second-to-last batch, counts torch-xla's
    device-to-host transfers and graph executions, and prints their averages per step."""

    def __init__(self, start: int = 5) -> None:
        self.start = start
        self.first: tuple[int, int, int] | None = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.current_epoch != trainer.max_epochs - 1:
            return
        counts = (batch_idx, _count("TransferFromDeviceTime"), _count("ExecuteTime"))
        if batch_idx == self.start:
            self.first = counts
        elif batch_idx == trainer.num_training_batches - 2 and self.first is not None:
            steps = counts[0] - self.first[0]
            transfers, executions = ((counts[i] - self.first[i]) / steps for i in (1, 2))
            print(f"XLA per step: {transfers:.3f} transfers, {executions:.3f} executions over {steps} steps")
