"""Small layers the networks share: activations by name, Keras-style BatchNorm, "same" padding, a scale."""

import torch
from torch import nn

from lit_digits.errors import LitDigitsError

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "sigmoid": nn.Sigmoid, "none": nn.Identity}


def activation(name: str) -> nn.Module:
    """``relu``, ``gelu``, ``sigmoid`` or ``none`` (a linear layer, as Keras's default ``activation=None``)."""
    if name not in ACTIVATIONS:
        raise LitDigitsError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]()


def norm_layer(layer: type[nn.Module], features: int, scale: bool, momentum: float, eps: float):
    """BatchNorm with a learned shift; its scale is learned only if ``scale`` (Keras ``scale=False`` fixes it at 1)."""
    norm = layer(features, eps=eps, momentum=momentum)
    norm.weight.requires_grad_(scale)
    return norm


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's ``padding="same"``: output ``ceil(size / stride)``, the odd pixel of padding after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class Scale(nn.Module):
    """Multiply by a constant (DavidNet's 0.125 on the logits)."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor

    def extra_repr(self) -> str:
        return f"factor={self.factor}"


class GlobalMaxPool(nn.Module):
    """The maximum over each channel's whole map, N x C x H x W to N x C x 1 x 1: ``AdaptiveMaxPool2d(1)``
    as one reduction, which every backend and ONNX exporter knows (ONNX's has no adaptive max pool)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax(dim=(-2, -1), keepdim=True)
