"""``torch.compile`` of a recipe's networks."""

import logging
from typing import Any

from lit_digits.errors import LitDigitsError
from lit_digits.technique import Technique

COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")
log = logging.getLogger(__name__)


class Compile(Technique):
    """Compile the network, and the one that evaluates where that is another (the weight average),
    with ``torch.compile`` when a Trainer runs them, once; ignored on XLA, which compiles the whole
    step anyway.

    Each is compiled in place (``nn.Module.compile``, so that checkpoints keep their keys and load
    into compiled and uncompiled models alike), with static shapes: training batches all have one
    size, and dynamic-shape graphs fail to build with ghost BatchNorm (torch 2.9's inductor).

    Args:
        mode: ``torch.compile``'s: ``default``, ``reduce-overhead`` (CUDA graphs) or ``max-autotune``.
    """

    def __init__(self, mode: str = "default") -> None:
        if mode not in COMPILE_MODES:
            raise LitDigitsError(
                f"Compile's mode (model.compile_mode in older configs) must be one of {', '.join(COMPILE_MODES)}, "
                f"got {mode!r}"
            )
        self.mode, self.compiled = mode, False

    def configure_model(self, model: Any, trainer: Any) -> None:
        if self.compiled:
            return
        if trainer.strategy.root_device.type == "xla":
            log.info("model.compile is ignored on XLA: torch-xla already compiles each step into one graph")
            return
        for net in {id(net): net for net in (model.net, model.evaluation_net)}.values():
            net.compile(mode=self.mode, dynamic=False)
        self.compiled = True
