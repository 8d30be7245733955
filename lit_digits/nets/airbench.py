"""The airbench network: Keller Jordan's CIFAR-10 speed-record ConvNet (94% in 8 epochs with Muon)."""

from collections.abc import Sequence

import torch
from torch import nn

from lit_digits.errors import LitDigitsError
from lit_digits.nets.layers import Scale, norm_layer
from lit_digits.nets.layers import activation as make_activation
from lit_digits.nets.whitening import PatchWhitening


class DiracConv2d(nn.Conv2d):
    """A "same"-padded, unbiased convolution whose first ``in_channels`` filters start as the
    identity (``nn.init.dirac_``), the others with PyTorch's default initialization."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3) -> None:
        super().__init__(in_channels, out_channels, kernel_size, padding="same", bias=False)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        with torch.no_grad():
            nn.init.dirac_(self.weight[: self.in_channels])


class ConvGroup(nn.Sequential):
    """``conv -> max-pool 2 -> BatchNorm -> activation -> conv -> BatchNorm -> activation``."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, act: str, bn: dict) -> None:
        super().__init__()
        self.conv1 = DiracConv2d(c_in, c_out, kernel_size)
        self.pool = nn.MaxPool2d(2)
        self.norm1 = norm_layer(nn.BatchNorm2d, c_out, **bn)
        self.act1 = make_activation(act)
        self.conv2 = DiracConv2d(c_out, c_out, kernel_size)
        self.norm2 = norm_layer(nn.BatchNorm2d, c_out, **bn)
        self.act2 = make_activation(act)


class AirbenchNet(nn.Sequential):
    """whitening -> activation -> 3 conv groups -> max-pool 3 -> linear head / width (airbench94).

    The defaults are ``airbench94_muon.py``'s network (1,971,352 trained parameters at
    widths 64/256/256): a frozen 2x2 patch-whitening layer with 24 filters (the 12
    eigenvectors and their negatives, fitted to the first 5,000 training images, eps 5e-4)
    and a trained bias; three :class:`ConvGroup` blocks whose convolutions start as the
    identity; BatchNorm with PyTorch momentum 0.4 (the reference's 0.6 is Keras's), eps
    1e-12 and its scale frozen at 1; GELU; an unbiased head with unit-variance weights,
    its logits divided by the last width. ``group_activation`` gives the conv groups another
    activation than the one after the whitening (hiverge's record recipe: SiLU there, GELU here).

    The parameter names the recipe's optimizer groups select: ``whiten.bias``,
    ``group{1,2,3}.conv{1,2}.weight`` (the filters), ``group{1,2,3}.norm{1,2}.bias`` and
    ``head.weight``.
    """

    def __init__(
        self,
        widths: Sequence[int] = (64, 256, 256),
        kernel_size: int = 3,
        activation: str = "gelu",
        group_activation: str | None = None,
        whitening_patch_size: int = 2,
        whitening_eps: float = 5e-4,
        whitening_images: int = 5000,
        bn_momentum: float = 0.4,
        bn_eps: float = 1e-12,
        bn_scale: bool = False,
        num_classes: int = 10,
    ) -> None:
        if len(widths) != 3 or min(widths) < 1:
            raise LitDigitsError(f"widths needs three positive widths, one per conv group, got {list(widths)}")
        whiten = PatchWhitening(
            3, whitening_patch_size, whitening_eps, padding=0, negatives=True, bias=True, fit_images=whitening_images
        )
        bn = {"scale": bn_scale, "momentum": bn_momentum, "eps": bn_eps}
        c_in = [whiten.out_channels, *widths[:-1]]
        super().__init__()
        self.whiten = whiten
        self.act = make_activation(activation)
        for i, (c, w) in enumerate(zip(c_in, widths), 1):
            self.add_module(f"group{i}", ConvGroup(c, w, kernel_size, group_activation or activation, bn))
        self.pool = nn.MaxPool2d(3)
        self.flatten = nn.Flatten()
        self.head = nn.Linear(widths[-1], num_classes, bias=False)
        self.scale = Scale(1 / widths[-1])
        with torch.no_grad():
            self.head.weight /= self.head.weight.std()
        self.in_channels = 3
