"""One line per training epoch, in place of the progress bar where stdout is not a terminal."""

import math
import time

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ProgressBar

from lit_digits.optim.groups import learning_rates


class EpochLines(ProgressBar):
    """One line on stdout per training epoch, as Keras's ``verbose=2`` prints, for output that
    is a file, a pipe or a scheduler's log (where a bar's every redraw would be a new line)::

        Epoch 3/10 - 234 steps - 125.2 s - train_acc 98.74% - train_loss 0.0408 - val_acc 98.74% - val_loss 0.0417 - lr-Adam 0.00714

    Epochs count from 1 (metrics.csv's ``epoch`` from 0). The seconds include the epoch's
    validation. The figures are the epoch's logged ones, by their metrics.csv names (the
    ``val_`` ones only if validation ran in that epoch), and the learning rates those of the
    next step.

    Nothing runs at a step: the host reads what it prints once the epoch's figures are final.
    Lightning logs a module's epoch figures after the callbacks' ``on_train_epoch_end``, so the
    line is printed where they are final: at the next epoch's start, at the end of training,
    or when training stops on an exception (SIGTERM, Ctrl-C) after a whole epoch. Only the
    global rank 0 prints (``ProgressBar.setup`` disables the others).
    """

    def __init__(self) -> None:
        super().__init__()
        self._enabled = True
        self._started = 0.0
        self._first_step = 0
        self._validated = False
        self._ended: tuple[int, int, float, bool] | None = None  # the epoch whose line is due: epoch, steps, s, val

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._print_ended(trainer)
        self._started, self._first_step, self._validated = time.monotonic(), trainer.global_step, False

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.sanity_checking:
            self._validated = True

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        steps = trainer.global_step - self._first_step
        self._ended = (trainer.current_epoch, steps, time.monotonic() - self._started, self._validated)

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._print_ended(trainer)

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        self._print_ended(trainer)

    def _print_ended(self, trainer: Trainer) -> None:
        if self._ended is None or not self._enabled:
            return
        epoch, steps, seconds, validated = self._ended
        self._ended = None
        epochs = f"/{trainer.max_epochs}" if trainer.max_epochs not in (None, -1) else ""
        parts = [f"Epoch {epoch + 1}{epochs}", f"{steps} steps", f"{seconds:.1f} s"]
        for name, value in sorted(trainer.callback_metrics.items()):
            if validated or not name.startswith("val_"):
                parts.append(f"{name} {_shown(name, float(value))}")
        for optimizer in trainer.optimizers:
            parts += [f"{name} {lr:.4g}" for name, lr in learning_rates(optimizer).items()]
        print(" - ".join(parts), flush=True)  # a file or pipe would hold it back in its buffer


def _shown(name: str, value: float) -> str:
    """An accuracy as a percentage, anything else (a loss) to four decimals, as Keras shows it."""
    if name.endswith("_acc") and math.isfinite(value):
        return f"{100 * value:.2f}%"
    return f"{value:.4f}"
