"""Recipes built from Python as the configs build them, on small networks, for the tests of the networks,
the optimizers and the recipe module alike."""

import torch

from lit_digits import DavidNet, ImageClassifier
from lit_digits.nets import AirbenchNet, ResNet9
from lit_digits.optim import Muon, ParamGroup
from lit_digits.schedules import LinearDecay, PiecewiseLinear

FAST_NET = {"prep": "whitening", "pool_before_norm": True, "activation": "celu", "ghost_batch_splits": 16,
            "bn_scale": False, "logit_scale": 1 / 16}  # fmt: skip


def fast_davidnet(width: int = 64, **kwargs) -> DavidNet:
    """configs/cifar_fast.yaml's model, from Python."""
    recipe = {"lr_schedule": PiecewiseLinear([0, 2, 8], [0.0, 1.0, 0.1]), "bias_lr_factor": 64,
              "label_smoothing": 0.2, "ema_decay": 0.99, "ema_every_n_steps": 5, "tta_flip": True}  # fmt: skip
    return DavidNet(net=ResNet9(width=width, **FAST_NET), **{**recipe, **kwargs})


def recipe(**kwargs) -> ImageClassifier:
    """configs/cifar_air.yaml's groups, from Python, on a small network."""
    groups = [
        ParamGroup(["net.group*.conv*.weight"], optimizer=Muon, lr_schedule=LinearDecay(0.24)),
        ParamGroup(["net.head.weight"], lr_schedule=LinearDecay(1340.0), weight_decay=3e-6),
        ParamGroup(["net.whiten.bias"], lr_schedule=LinearDecay(106.0, end_epoch=3)),
    ]
    options = {"optimizer": torch.optim.SGD, "lr_schedule": LinearDecay(106.0), "param_groups": groups, **kwargs}
    return ImageClassifier(AirbenchNet(widths=(8, 16, 16)), **options)


def trainable(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
