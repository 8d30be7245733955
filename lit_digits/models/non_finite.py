"""Stopping a fit whose training loss became inf or nan, where the step's figures are read anyway."""

import math
from typing import Any

from lit_digits.errors import LitDigitsError
from lit_digits.models.training_figures import is_logging_step
from lit_digits.technique import Technique


class NonFiniteGuard(Technique):
    """At logging steps and at each epoch's last step (before validation and checkpoints), stop on
    a non-finite training loss, naming the steps since the last check.

    It reads the module's running loss sum (a non-finite loss makes it non-finite too), a value the
    step has already computed: no step graph changes and no other step waits for the host.
    """

    def __init__(self) -> None:
        self.checked_steps = 0

    def on_train_start(self, model: Any) -> None:
        self.checked_steps = model.global_step

    def on_train_batch_end(self, model: Any, batch_idx: int) -> None:
        if not (is_logging_step(model) or batch_idx + 1 == model.trainer.num_training_batches):
            return
        if not math.isfinite(model.figures.loss_sum.item()):  # a read of the sum, not a new graph to run (XLA)
            raise LitDigitsError(
                f"the training loss became inf or nan between steps {self.checked_steps + 1} and "
                f"{model.global_step} (epoch {model.current_epoch}); the learning rate is likely too high "
                "(lower --model.lr_schedule's lr) or the precision too low (try --trainer.precision 32-true)"
            )
        self.checked_steps = model.global_step
