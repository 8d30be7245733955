"""A callback the fault tests load into ``lit_digits fit``: sends SIGTERM like a scheduler's stop."""

import os
import signal

from lightning.pytorch import Callback


class TermAtStep(Callback):
    """Sends SIGTERM to this process when training step ``step`` has ended."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGTERM)
