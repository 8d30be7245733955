"""What an exported file computes: raw images in, class probabilities out."""

import torch
from torch import nn

from lit_digits.models import ImageClassifier
from lit_digits.models.test_time import averaged_views


class DeployedClassifier(nn.Module):
    """A recipe module's evaluation path alone, for export: images in [0, 1] (N x C x H x W,
    float32) normalized with the checkpoint's mean and std, classified by its evaluation network
    (the weight average where the run kept one), optionally over its test-time views, as class
    probabilities (N x classes, softmax). Nothing of training (optimizer, metrics, the other
    copy of the weights) comes along.

    Args:
        model: the trained recipe module.
        test_time_views: average over the views the recipe validates with (``tta_flip``,
            ``tta_translate``); without, the network sees each image once.
    """

    def __init__(self, model: ImageClassifier, test_time_views: bool = False) -> None:
        super().__init__()
        self.net = model.evaluation_net
        self.register_buffer("input_mean", model.mean.detach().clone().float())
        self.register_buffer("input_std", model.std.detach().clone().float())
        self.flip = test_time_views and model.tta_flip
        self.translate = test_time_views and model.tta_translate

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        logits = averaged_views(self.net, (images - self.input_mean) / self.input_std, self.flip, self.translate)
        return logits.float().softmax(dim=-1)
