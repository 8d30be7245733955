"""The simpler MNIST models of the same tutorials: one dense softmax layer, or an MLP."""

from collections.abc import Sequence
from itertools import pairwise

from torch import nn

from lit_digits.models.exponential_decay_adam import ExponentialDecayAdam


class MLP(ExponentialDecayAdam):
    """Dense ReLU layers of ``hidden`` sizes with dropout, then a linear layer to the classes.

    ``hidden=[]`` is the tutorials' single dense softmax layer (7,850 parameters); the
    default is their five-layer network (200, 100, 60, 30). Trained like the TPU ConvNet:
    Adam with ``min_lr + lr * exp(-step / decay_steps)``.
    """

    def __init__(
        self,
        hidden: Sequence[int] = (200, 100, 60, 30),
        dropout: float = 0.25,
        image_shape: Sequence[int] = (1, 28, 28),
        lr: float = 0.003,
        min_lr: float = 0.0001,
        decay_steps: float = 2000,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(image_shape[0], lr, min_lr, decay_steps, label_smoothing)
        sizes = [image_shape[0] * image_shape[1] * image_shape[2], *hidden]
        layers: list[nn.Module] = [nn.Flatten()]
        for size_in, size_out in pairwise(sizes):
            layers += [nn.Linear(size_in, size_out), nn.ReLU(), nn.Dropout(dropout)]
        layers.append(nn.Linear(sizes[-1], 10))
        self.net = nn.Sequential(*layers)
