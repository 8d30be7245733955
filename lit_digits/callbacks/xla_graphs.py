"""Counting torch-xla graph compilations per epoch, to prove training runs one graph."""

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn


def xla_compile_count() -> int:
    """How many XLA graphs this process has compiled so far."""
    import torch_xla.debug.metrics as met

    data = met.metric_data("CompileTime")
    return int(data[0]) if data else 0


class XLAGraphCheck(Callback):
    """On XLA devices: reports torch-xla's compilation count after every epoch.

    The training and evaluation step graphs compile in the first epoch; Lightning's
    checkpoint bookkeeping compiles a few small scalar graphs the first time each of its
    paths runs (accuracy improved or not), up to epoch 2. From epoch 3 on the count must
    stay put; a growth means something changes shape or value-dependent structure from
    step to step and is reported with a warning (``PT_XLA_DEBUG_LEVEL=1`` says why).
    ``counts[e]`` is the total after epoch ``e``. Off XLA it does nothing.
    """

    def __init__(self) -> None:
        self.counts: list[int] = []

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if pl_module.device.type != "xla":
            return
        count = xla_compile_count()
        rank_zero_info(f"XLA compilations after epoch {trainer.current_epoch}: {count}")
        if trainer.current_epoch >= 3 and count > self.counts[-1]:
            rank_zero_warn(f"XLA compiled {count - self.counts[-1]} new graphs in epoch {trainer.current_epoch}")
        self.counts.append(count)
