"""ResNet-9, the network of David Page's DavidNet, with the switches of his "bag of tricks"."""

from functools import partial

import torch
from torch import nn

from lit_digits.errors import LitDigitsError
from lit_digits.nets.ghost_batch_norm import GhostBatchNorm
from lit_digits.nets.layers import GlobalMaxPool, Scale, norm_layer
from lit_digits.nets.whitening import PatchWhitening

PREPS = ("conv", "whitening")
ACTIVATIONS = ("relu", "celu")


class Residual(nn.Module):
    """``x + body(x)``."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResNet9(nn.Sequential):
    """prep ``width`` -> layer1 2w + residual -> layer2 4w -> layer3 8w + residual -> max-pool -> linear.

    The defaults are DavidNet's published 24-epoch network: 6,573,120 parameters at
    ``width=64``, PyTorch's default initialization, each block ``conv 3x3 -> BatchNorm ->
    ReLU`` with a 2x2 max-pool after layers 1-3, logits multiplied by ``logit_scale``.

    The bag-of-tricks switches (Page, "How to Train Your ResNet 8"):
        prep: ``conv`` (a 3x3 convolution) or ``whitening``: a fixed 3x3 patch-whitening
            layer (27 filters, :class:`PatchWhitening`, fitted to the training images when
            training starts) followed by a learned 1x1 convolution.
        pool_before_norm: max-pool right after each pooled block's convolution, so its
            BatchNorm and activation work on a quarter of the pixels.
        activation: ``relu`` or ``celu`` (``nn.CELU(celu_alpha)``).
        ghost_batch_splits: normalize each training batch in this many sub-batches
            (:class:`GhostBatchNorm`); 1 is plain BatchNorm.
        bn_scale: learn BatchNorm's scale; ``False`` fixes it at 1 (only the shift is learned).
    """

    def __init__(
        self,
        width: int = 64,
        logit_scale: float = 0.125,
        num_classes: int = 10,
        prep: str = "conv",
        pool_before_norm: bool = False,
        activation: str = "relu",
        celu_alpha: float = 0.3,
        ghost_batch_splits: int = 1,
        bn_scale: bool = True,
    ) -> None:
        if width < 1:
            raise LitDigitsError(f"width must be at least 1, got {width}")
        if prep not in PREPS:
            raise LitDigitsError(f"prep must be one of {', '.join(PREPS)}, got {prep!r}")
        if activation not in ACTIVATIONS:
            raise LitDigitsError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        if celu_alpha <= 0:
            raise LitDigitsError(f"celu_alpha must be positive, got {celu_alpha}")
        if ghost_batch_splits < 1:
            raise LitDigitsError(f"ghost_batch_splits must be at least 1, got {ghost_batch_splits}")

        def act() -> nn.Module:
            return nn.CELU(celu_alpha, inplace=True) if activation == "celu" else nn.ReLU(inplace=True)

        norm = partial(GhostBatchNorm, splits=ghost_batch_splits) if ghost_batch_splits > 1 else nn.BatchNorm2d

        def block(c_in: int, c_out: int, kernel_size: int = 3, pool: bool = False) -> nn.Sequential:
            pooling = [nn.MaxPool2d(2)] if pool else []
            conv = nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2, bias=False)
            return nn.Sequential(conv, *pooling, norm_layer(norm, c_out, bn_scale, momentum=0.1, eps=1e-5), act())

        def pooled_block(c_in: int, c_out: int) -> list[nn.Module]:
            # The max-pool's place is kept (an Identity when it moves into the block), so the
            # default network's parameter names stay those of earlier checkpoints.
            if pool_before_norm:
                return [block(c_in, c_out, pool=True), nn.Identity()]
            return [block(c_in, c_out), nn.MaxPool2d(2)]

        def residual(channels: int) -> Residual:
            return Residual(nn.Sequential(block(channels, channels), block(channels, channels)))

        w = width
        if prep == "whitening":
            whitening = PatchWhitening(3)
            prep_layers = nn.Sequential(whitening, *block(whitening.out_channels, w, kernel_size=1))
        else:
            prep_layers = block(3, w)
        super().__init__(
            prep_layers,
            *pooled_block(w, 2 * w), residual(2 * w),
            *pooled_block(2 * w, 4 * w),
            *pooled_block(4 * w, 8 * w), residual(8 * w),
            GlobalMaxPool(), nn.Flatten(),
            nn.Linear(8 * w, num_classes, bias=False),
            Scale(logit_scale),
        )  # fmt: skip
        self.in_channels = 3
