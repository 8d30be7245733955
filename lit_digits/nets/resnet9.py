"""ResNet-9, the network of David Page's DavidNet."""

import torch
from torch import nn


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


class ResNet9(nn.Sequential):
    """prep ``width`` -> layer1 2w + residual -> layer2 4w -> layer3 8w + residual -> max-pool -> linear.

    6,573,120 parameters at ``width=64``; PyTorch's default initialization; the logits
    are multiplied by ``logit_scale``.
    """

    def __init__(self, width: int = 64, logit_scale: float = 0.125, num_classes: int = 10) -> None:
        w = width
        super().__init__(
            conv_bn(3, w),
            conv_bn(w, 2 * w), nn.MaxPool2d(2), Residual(2 * w),
            conv_bn(2 * w, 4 * w), nn.MaxPool2d(2),
            conv_bn(4 * w, 8 * w), nn.MaxPool2d(2), Residual(8 * w),
            nn.AdaptiveMaxPool2d(1), nn.Flatten(),
            nn.Linear(8 * w, num_classes, bias=False),
            Scale(logit_scale),
        )  # fmt: skip
        self.in_channels = 3
