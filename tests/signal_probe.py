"""A callback the fault tests load into ``lit_digits fit``: signals the process like a scheduler or a user."""

import os
import signal

from lightning.pytorch import Callback


class SignalAtStep(Callback):
    """Sends ``signal_name`` (SIGTERM, SIGINT) to this process when training step ``step`` has ended."""

    def __init__(self, step: int, signal_name: str) -> None:
        self.step = step
        self.signal = signal.Signals[signal_name]

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), self.signal)
