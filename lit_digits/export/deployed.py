"""What an exported file computes: raw images in, class probabilities out."""

import torch
from torch import nn

from lit_digits.models import ImageClassifier
from lit_digits.technique import evaluate_with


class DeployedClassifier(nn.Module):
    """A recipe module's evaluation path alone, for export: images in [0, 1] (N x C x H x W,
    float32) normalized with the checkpoint's mean and std, classified by its evaluation network
    (the weight average where the run kept one), optionally over its test-time views, as class
    probabilities (N x classes, softmax). Nothing of training (optimizer, metrics, the other
    copy of the weights) comes along.

    Args:
        model: the trained recipe module.
        test_time_views: evaluate as the recipe validates, through its techniques (its test-time
            views); without, the network sees each image once.
    """

    def __init__(self, model: ImageClassifier, test_time_views: bool = False) -> None:
        super().__init__()
        self.net = model.evaluation_net
        self.register_buffer("input_mean", model.mean.detach().clone().float())
        self.register_buffer("input_std", model.std.detach().clone().float())
        self.techniques = list(model.techniques) if test_time_views else []

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        logits = evaluate_with(self.techniques, self.net, (images - self.input_mean) / self.input_std)
        return logits.float().softmax(dim=-1)
