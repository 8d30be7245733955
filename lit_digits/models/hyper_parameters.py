"""What a recipe module records of its arguments: the data among them, so that a checkpoint loads
with ``weights_only``."""

import dataclasses
import warnings
from collections.abc import Mapping
from types import FrameType

from lightning.pytorch import LightningModule

from lit_digits.models.compatibility import LATER_ARGUMENTS, without_later_defaults

SPECS = ("net", "optimizer", "lr_schedule")
LISTS = ("param_groups", "techniques")


def record_hyper_parameters(model: LightningModule, frame: FrameType | None) -> None:
    """``save_hyperparameters`` of the ``__init__`` running in ``frame``, keeping data only.

    Objects passed from Python cannot be stored as data: the checkpoint keeps the rest, and
    ``load_from_checkpoint`` takes them again. The command line and the recipes' defaults pass
    class-path specs, which are kept; a dataclass is kept as its fields. The arguments added after
    0.1.0 are kept only when given (``compatibility.LATER_ARGUMENTS``, ``LATER_CLASS_ARGUMENTS``).
    """
    with warnings.catch_warnings():  # a net passed from Python is dropped just below
        warnings.filterwarnings("ignore", message="Attribute 'net' is an instance of `nn.Module`")
        model.save_hyperparameters(frame=frame)
    hparams = model.hparams
    for name, value in hparams.items():
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            hparams[name] = dataclasses.asdict(value)
        hparams[name] = without_later_defaults(hparams[name])
    objects = [name for name in SPECS if not isinstance(hparams.get(name), Mapping)]
    objects += [name for name in LISTS if not all(isinstance(item, Mapping) for item in hparams.get(name, ()))]
    defaults = [name for name, default in LATER_ARGUMENTS.items() if hparams.get(name) in (default, ())]
    model.remove_ignored_hparams(objects + defaults)
