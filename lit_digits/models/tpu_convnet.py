"""Google's Cloud TPU MNIST ConvNet recipe (99.4% test accuracy claimed)."""

from typing import Any

from lightning.pytorch.cli import OptimizerCallable
from torch import nn

from lit_digits.models.classifier import ImageClassifier
from lit_digits.nets import ConvNet
from lit_digits.optim.optimization import ADAM
from lit_digits.schedules import ExponentialDecay, LRSchedule
from lit_digits.spec import spec

NET = spec(ConvNet)  # its defaults are the tutorial's network
SCHEDULE = spec(ExponentialDecay, lr=0.01, decay_steps=2000, min_lr=0.0001)


class TPUConvNet(ImageClassifier):
    """The tutorial's recipe: its ConvNet, Adam, ``lr = 0.0001 + 0.01 * exp(-step / 2000)`` per step.

    The network (``lit_digits.nets.ConvNet`` with its defaults): Conv-BN-ReLU 6 (3x3) ->
    12 (6x6, stride 2) -> 24 (6x6, stride 2), dense 200 -> BN -> ReLU -> dropout 0.5 -> 10;
    TensorFlow's "same" padding, no conv bias, Keras BatchNorm (momentum 0.99, eps 1e-3, no
    learned scale): 250,466 trainable parameters. Input pixels are used as x / 255. Batch
    256 (configs/mnist.yaml).
    """

    def __init__(
        self,
        net: nn.Module = NET,
        optimizer: OptimizerCallable = ADAM,
        lr_schedule: LRSchedule = SCHEDULE,
        **kwargs: Any,
    ) -> None:
        """``kwargs``: ``ImageClassifier``'s other options (``label_smoothing``, ``compile``, ...)."""
        super().__init__(net, optimizer, lr_schedule, **kwargs)
