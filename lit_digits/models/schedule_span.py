"""How long a fit's learning-rate schedules run, from its Trainer and data module."""

import logging
from typing import Any

from lightning.pytorch import Trainer

from lit_digits.data import ImageDataModule
from lit_digits.errors import LitDigitsError

log = logging.getLogger(__name__)


def schedule_span(trainer: Trainer, summed_loss: Any) -> tuple[int, int, int]:
    """The optimizer steps of an epoch, the epochs and the examples a step sums, for a fit of
    ``trainer`` (one line where ``summed_loss``'s reference batch differs from the fit's)."""
    epochs, datamodule = trainer.max_epochs, trainer.datamodule
    if epochs is None or epochs < 0:
        raise LitDigitsError("the learning-rate schedule needs --trainer.max_epochs (a number of epochs) to be set")
    if not isinstance(datamodule, ImageDataModule):
        raise LitDigitsError("the learning-rate schedule counts its steps from a lit_digits data module "
                             "(lit_digits.MNISTDataModule, CIFAR10DataModule or an ImageDataModule); fit with one")  # fmt: skip
    examples = datamodule.examples_per_step(trainer)
    if summed_loss is not None and examples != summed_loss.batch_size:
        log.info(f"model.summed_loss: the reference's rates hold per example, so each SGD step sums {examples} "
                 f"examples' gradients, not its {summed_loss.batch_size} (docs/airbench.md)")  # fmt: skip
    return datamodule.steps_per_epoch(trainer), epochs, examples
