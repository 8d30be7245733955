"""How long a fit's learning-rate schedules run, from its Trainer and data module."""

import logging
from typing import Any

from lightning.pytorch import Trainer

from lit_digits.data import ImageDataModule
from lit_digits.errors import LitDigitsError

log = logging.getLogger(__name__)


def schedule_span(trainer: Trainer, summed_loss: Any) -> tuple[int, float, int]:
    """The optimizer steps of an epoch, the epochs (``epochs_run``) and the examples a step sums, for a
    fit of ``trainer`` (one line where ``summed_loss``'s reference batch differs from the fit's)."""
    datamodule = trainer.datamodule
    if not isinstance(datamodule, ImageDataModule):
        raise LitDigitsError("the learning-rate schedule counts its steps from a lit_digits data module "
                             "(lit_digits.MNISTDataModule, CIFAR10DataModule or an ImageDataModule); fit with one")  # fmt: skip
    examples = datamodule.examples_per_step(trainer)
    if summed_loss is not None and examples != summed_loss.batch_size:
        log.info(f"model.summed_loss: the reference's rates hold per example, so each SGD step sums {examples} "
                 f"examples' gradients, not its {summed_loss.batch_size} (docs/airbench.md)")  # fmt: skip
    steps_per_epoch = datamodule.steps_per_epoch(trainer)
    return steps_per_epoch, epochs_run(trainer, steps_per_epoch), examples


def epochs_run(trainer: Trainer, steps_per_epoch: int) -> float:
    """The epochs a fit of ``trainer`` runs, which its schedules span: ``max_epochs``; or, for a recipe
    that names its length in steps instead (``max_epochs: null``, ``max_steps``), that many steps'
    worth, a fraction of an epoch too. ``max_steps`` beside ``max_epochs`` cuts a run short and leaves
    its schedules as they are."""
    if trainer.max_epochs is not None and trainer.max_epochs >= 0:
        return trainer.max_epochs
    if trainer.max_steps > 0:
        return trainer.max_steps / steps_per_epoch
    raise LitDigitsError("the learning-rate schedule needs a length: set --trainer.max_epochs or --trainer.max_steps")
