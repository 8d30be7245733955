"""Keeping torch-xla on one compiled graph, and counting compilations to prove it."""

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn


def xla_compile_count() -> int:
    """How many XLA graphs this process has compiled so far."""
    import torch_xla.debug.metrics as met

    data = met.metric_data("CompileTime")
    return int(data[0]) if data else 0


class XLAGraphCheck(Callback):
    """On XLA devices: cut the lazy graph at epoch boundaries and count compilations.

    Lightning's epoch-end bookkeeping (checkpoint comparisons, logging) reads tensors that
    are still pending; which of them are pending depends on the values (did accuracy
    improve?), so without a cut each new combination compiles a new graph. Syncing once
    when validation ends and when the training epoch ends makes those reads hit ready
    values. The step graphs compile in the first epoch; Lightning's checkpoint bookkeeping
    compiles a few scalar graphs the first time each of its paths runs (up to epoch 2).
    From epoch 3 on the count must stay put; a growth is reported with a warning
    (``PT_XLA_DEBUG_LEVEL=1`` says why).
    ``counts[e]`` is the total after epoch ``e``. Off XLA it does nothing.
    """

    def __init__(self) -> None:
        self.counts: list[int] = []

    @staticmethod
    def _sync(pl_module: LightningModule) -> bool:
        if pl_module.device.type != "xla":
            return False
        import torch_xla

        torch_xla.sync()
        return True

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._sync(pl_module)

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not self._sync(pl_module):
            return
        count = xla_compile_count()
        rank_zero_info(f"XLA compilations after epoch {trainer.current_epoch}: {count}")
        if trainer.current_epoch >= 3 and count > self.counts[-1]:
            rank_zero_warn(f"XLA compiled {count - self.counts[-1]} new graphs in epoch {trainer.current_epoch}")
        self.counts.append(count)
