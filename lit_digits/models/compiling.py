"""``torch.compile`` for a recipe's networks."""

from collections.abc import Iterable

from torch import nn

COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")


def compile_networks(nets: Iterable[nn.Module | None], mode: str) -> None:
    """Compile each network in place (``nn.Module.compile``, so that checkpoints keep their keys and
    load into compiled and uncompiled models alike), with static shapes: training batches all have
    one size, and dynamic-shape graphs fail to build with ghost BatchNorm (torch 2.9's inductor)."""
    for net in nets:
        if net is not None:
            net.compile(mode=mode, dynamic=False)
