"""The Google Cloud TPU MNIST ConvNet (99.4% test accuracy)."""

from functools import partial

from torch import nn

from lit_digits.models.exponential_decay_adam import ExponentialDecayAdam


def keras_batch_norm(layer: type[nn.modules.batchnorm._BatchNorm], channels: int, momentum: float, eps: float):
    """Keras ``BatchNormalization(scale=False)``: a learned shift, the scale fixed at 1."""
    norm = layer(channels, eps=eps, momentum=momentum)
    norm.weight.requires_grad_(False)
    return norm


class TPUConvNet(ExponentialDecayAdam):
    """Conv-BN-ReLU 6 (3x3) -> 12 (6x6, stride 2) -> 24 (6x6, stride 2), dense 200 -> 10.

    250,466 trainable parameters. TensorFlow's "same" padding (28 -> 28 -> 14 -> 7), no
    conv bias, Keras BatchNorm defaults (PyTorch momentum 0.01, eps 1e-3, no learned
    scale), dropout before the classifier. Input pixels are used as x / 255.

    Recipe: Adam with the per-step learning rate ``min_lr + lr * exp(-step / decay_steps)``,
    batch 256 (configs/mnist.yaml).
    """

    def __init__(
        self,
        lr: float = 0.01,
        min_lr: float = 0.0001,
        decay_steps: float = 2000,
        dropout: float = 0.5,
        bn_momentum: float = 0.01,
        bn_eps: float = 1e-3,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(1, lr, min_lr, decay_steps, label_smoothing)
        bn2d = partial(keras_batch_norm, nn.BatchNorm2d, momentum=bn_momentum, eps=bn_eps)
        bn1d = partial(keras_batch_norm, nn.BatchNorm1d, momentum=bn_momentum, eps=bn_eps)
        self.net = nn.Sequential(
            nn.Conv2d(1, 6, 3, stride=1, padding=1, bias=False), bn2d(6), nn.ReLU(),
            nn.Conv2d(6, 12, 6, stride=2, padding=2, bias=False), bn2d(12), nn.ReLU(),
            nn.Conv2d(12, 24, 6, stride=2, padding=2, bias=False), bn2d(24), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(24 * 7 * 7, 200, bias=False), bn1d(200), nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(200, 10),
        )  # fmt: skip
