"""The tutorials' convolutional networks as one configurable class."""

from collections.abc import Sequence
from itertools import pairwise

from torch import nn

from lit_digits.errors import LitDigitsError
from lit_digits.nets.layers import activation, norm_layer, same_padding


class ConvNet(nn.Module):
    """Convolutions with TensorFlow's "same" padding, then dense layers, then a linear classifier.

    Each convolution is ``conv -> [BatchNorm] -> conv_activation``; each dense layer is
    ``linear -> [BatchNorm] -> relu``; ``dropout`` comes before the classifier. With
    ``batch_norm`` the convolutions and dense layers have no bias (BatchNorm's shift plays
    it) unless ``bias`` says otherwise; ``bn_scale=False`` is Keras's
    ``BatchNormalization(scale=False)``. ``bn_momentum`` is PyTorch's (Keras's 0.99 is 0.01).

    The defaults are Google's Cloud TPU MNIST ConvNet (6-12-24): 250,466 trainable parameters.
    """

    def __init__(
        self,
        channels: Sequence[int] = (6, 12, 24),
        kernel_sizes: Sequence[int] = (3, 6, 6),
        strides: Sequence[int] = (1, 2, 2),
        dense: Sequence[int] = (200,),
        dropout: float = 0.5,
        conv_activation: str = "relu",
        batch_norm: bool = True,
        bn_scale: bool = False,
        bn_momentum: float = 0.01,
        bn_eps: float = 1e-3,
        bias: bool | None = None,
        classifier_bias: bool = True,
        image_shape: Sequence[int] = (1, 28, 28),
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        if not len(channels) == len(kernel_sizes) == len(strides):
            raise LitDigitsError(
                f"channels, kernel_sizes and strides need one entry per convolution, got {len(channels)}, "
                f"{len(kernel_sizes)} and {len(strides)}"
            )
        if not 0 <= dropout < 1:
            raise LitDigitsError(f"dropout must be in [0, 1), got {dropout}")
        self.in_channels = image_shape[0]
        bias = not batch_norm if bias is None else bias
        layers: list[nn.Module] = []
        size, depth = tuple(image_shape[1:]), image_shape[0]
        for width, kernel, stride in zip(channels, kernel_sizes, strides):
            (top, bottom), (left, right) = (same_padding(s, kernel, stride) for s in size)
            if (top, left) != (bottom, right):
                layers.append(nn.ZeroPad2d((left, right, top, bottom)))
                top = left = 0
            layers.append(nn.Conv2d(depth, width, kernel, stride=stride, padding=(top, left), bias=bias))
            if batch_norm:
                layers.append(norm_layer(nn.BatchNorm2d, width, bn_scale, bn_momentum, bn_eps))
            layers.append(activation(conv_activation))
            size, depth = tuple(-(-s // stride) for s in size), width
        layers.append(nn.Flatten())
        features = [depth * size[0] * size[1], *dense]
        for size_in, size_out in pairwise(features):
            layers.append(nn.Linear(size_in, size_out, bias=bias))
            if batch_norm:
                layers.append(norm_layer(nn.BatchNorm1d, size_out, bn_scale, bn_momentum, bn_eps))
            layers.append(nn.ReLU())
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(features[-1], num_classes, bias=classifier_bias))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)
