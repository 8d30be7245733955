"""DavidNet: David Page's ResNet-9, DAWNBench winner (94% CIFAR-10 test accuracy in 24 epochs)."""

import torch
from torch import nn, optim

from lit_digits.errors import LitDigitsError
from lit_digits.models.classifier import ImageClassifier
from lit_digits.models.schedules import piecewise_linear

CIFAR10_MEAN = (125.31 / 255, 122.95 / 255, 113.87 / 255)
CIFAR10_STD = (62.99 / 255, 62.09 / 255, 66.70 / 255)


def conv_bn(c_in: int, c_out: int) -> nn.Sequential:
    """3x3 convolution without bias, BatchNorm (PyTorch defaults), ReLU."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class Residual(nn.Module):
    """``x + conv_bn(conv_bn(x))``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv_bn(channels, channels), conv_bn(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Scale(nn.Module):
    """Multiply by a constant (DavidNet's 0.125 on the logits)."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor

    def extra_repr(self) -> str:
        return f"factor={self.factor}"


class DavidNet(ImageClassifier):
    """ResNet-9: prep 64 -> layer1 128 + residual -> layer2 256 -> layer3 512 + residual.

    6,573,120 parameters at ``width=64``; PyTorch's default initialization; logits scaled
    by ``logit_scale``. Inputs are normalized with the reference's CIFAR-10 mean and std.

    Recipe: batch 512, SGD with Nesterov momentum 0.9 on the *mean* batch loss with
    ``lr=0.4`` and ``weight_decay=5e-4`` (the reference's summed loss with lr / 512 and
    weight decay 5e-4 x 512 is the same update). The learning rate is piecewise linear,
    0 -> ``lr`` at ``warmup_epochs`` -> 0 at ``schedule_epochs`` (default: the trainer's
    ``max_epochs``), evaluated every step at the fractional epoch.
    """

    def __init__(
        self,
        width: int = 64,
        logit_scale: float = 0.125,
        lr: float = 0.4,
        momentum: float = 0.9,
        nesterov: bool = True,
        weight_decay: float = 5e-4,
        warmup_epochs: float = 5,
        schedule_epochs: float | None = None,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(in_channels=3, mean=CIFAR10_MEAN, std=CIFAR10_STD, label_smoothing=label_smoothing)
        self.lr, self.momentum, self.nesterov, self.weight_decay = lr, momentum, nesterov, weight_decay
        self.warmup_epochs, self.schedule_epochs = warmup_epochs, schedule_epochs
        w = width
        self.net = nn.Sequential(
            conv_bn(3, w),
            conv_bn(w, 2 * w), nn.MaxPool2d(2), Residual(2 * w),
            conv_bn(2 * w, 4 * w), nn.MaxPool2d(2),
            conv_bn(4 * w, 8 * w), nn.MaxPool2d(2), Residual(8 * w),
            nn.AdaptiveMaxPool2d(1), nn.Flatten(),
            nn.Linear(8 * w, 10, bias=False),
            Scale(logit_scale),
        )  # fmt: skip

    def make_optimizer(self) -> optim.Optimizer:
        return optim.SGD(
            self.parameters(),
            lr=self.lr,
            momentum=self.momentum,
            nesterov=self.nesterov,
            weight_decay=self.weight_decay,
        )

    def learning_rate(self, step: int, steps_per_epoch: int, epochs: int) -> float:
        epochs = self.schedule_epochs or epochs
        if not epochs or epochs < 0 or not steps_per_epoch:
            raise LitDigitsError("DavidNet's schedule needs trainer.max_epochs (or model.schedule_epochs) to be set")
        return piecewise_linear(step / steps_per_epoch, (0, self.warmup_epochs, epochs), (0, self.lr, 0))
