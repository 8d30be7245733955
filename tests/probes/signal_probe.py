"""A callback the fault tests load into ``lit_digits fit``: signals the process like a scheduler or a user."""

import os
import signal
import time

from lightning.pytorch import Callback


class SignalAtStep(Callback):
    """Sends ``signal_name`` (SIGTERM, SIGINT, SIGUSR1) to this process, or with ``to_launcher`` to the
    process that started it (torchrun's agent), when training step ``step`` has ended."""

    def __init__(self, step: int, signal_name: str, to_launcher: bool = False) -> None:
        self.step = step
        self.signal = signal.Signals[signal_name]
        self.to_launcher = to_launcher

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getppid() if self.to_launcher else os.getpid(), self.signal)


class SignalWhileSaving(Callback):
    """Sends SIGTERM to the process that started this one (torchrun's agent) while the run's first
    checkpoint is being written, and gives the agent ``wait`` seconds to pass it on before the
    writing goes on: a stop signal that comes after every process has decided to stop."""

    def __init__(self, wait: float = 3.0) -> None:
        self.wait = wait
        self.sent = False

    def on_save_checkpoint(self, trainer, pl_module, checkpoint) -> None:
        if not self.sent:
            self.sent = True
            os.kill(os.getppid(), signal.SIGTERM)
            time.sleep(self.wait)
