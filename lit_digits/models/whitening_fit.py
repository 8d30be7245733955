"""Fitting a network's patch-whitening layers to the first training images of its data module."""

from typing import Any

import torch
from torch import nn

from lit_digits.data import ImageDataModule
from lit_digits.errors import LitDigitsError
from lit_digits.nets.whitening import PatchWhitening
from lit_digits.technique import Technique


def fit_whitening(model: nn.Module, datamodule: object, mean: torch.Tensor, std: torch.Tensor) -> None:
    """Fit each ``PatchWhitening`` layer in ``model`` (a weight average's copies included) to its
    ``fit_images`` first training images of ``datamodule`` (``ImageDataModule.training_images``:
    as read, before any augmentation), normalized by ``mean`` and ``std``;
    nothing without such layers. (A resumed run then restores the fitted values from its checkpoint.)"""
    layers = [m for m in model.modules() if isinstance(m, PatchWhitening)]
    if not layers:
        return
    if not isinstance(datamodule, ImageDataModule):
        raise LitDigitsError("a patch-whitening network needs a lit_digits data module to fit its first layer to")
    images = datamodule.training_images(max(layer.fit_images for layer in layers))
    normalized = (images - mean.cpu()) / std.cpu()
    for layer in layers:
        layer.fit(normalized[: layer.fit_images])


class FitWhitening(Technique):
    """``fit_whitening`` when a fit sets up, with the module's own normalization."""

    def setup(self, model: Any, stage: str, datamodule: Any) -> None:
        if stage == "fit":
            fit_whitening(model, datamodule, model.mean, model.std)
