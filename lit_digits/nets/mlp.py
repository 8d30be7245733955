"""The tutorials' dense networks: one softmax layer, or hidden layers with dropout."""

from collections.abc import Sequence
from itertools import pairwise
from math import prod

from torch import nn

from lit_digits.errors import LitDigitsError
from lit_digits.nets.layers import activation as make_activation


class MLP(nn.Module):
    """Flatten, then ``linear -> activation -> dropout`` per ``hidden`` size, then a linear classifier.

    ``hidden=[]`` is the tutorials' single dense softmax layer (7,850 parameters on MNIST).
    """

    def __init__(
        self,
        hidden: Sequence[int] = (200, 60),
        activation: str = "relu",
        dropout: float = 0.0,
        image_shape: Sequence[int] = (1, 28, 28),
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        if not 0 <= dropout < 1:
            raise LitDigitsError(f"dropout must be in [0, 1), got {dropout}")
        self.in_channels = image_shape[0]
        sizes = [prod(image_shape), *hidden]
        layers: list[nn.Module] = [nn.Flatten()]
        for size_in, size_out in pairwise(sizes):
            layers += [nn.Linear(size_in, size_out), make_activation(activation)]
            if dropout:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(sizes[-1], num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)
