"""A technique of a recipe: one object that joins the recipe module at fixed hooks.

The recipe module (``lit_digits.models.ImageClassifier``) holds the network, the loss, the steps,
the optimizer and the metrics; each technique (a weight average, test-time views, compile, ...)
is a ``Technique`` named in the config::

    techniques:
      - class_path: lit_digits.models.WeightAverage
        init_args: {decay: 0.99, every_n_steps: 5}

It keeps its own settings and state, and registers on the module what a checkpoint holds of it
(its keys), so a new technique is a new class and touches no existing one. Each hook does
nothing unless a technique overrides it; ``model`` is the recipe module.
"""

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import torch
from torch import nn

from lit_digits.errors import LitDigitsError

Logits = Callable[[torch.Tensor], torch.Tensor]


class Technique:
    """A technique's hooks, called by the recipe module in the order the techniques are listed."""

    def attach(self, model: Any) -> None:
        """When the module is built, after its network: register the state this technique keeps
        (submodules, buffers: its checkpoint keys)."""

    def setup(self, model: Any, stage: str, datamodule: Any) -> None:
        """Lightning's ``setup``, with the trainer's data module (``None`` where there is none)."""

    def configure_model(self, model: Any, trainer: Any) -> None:
        """Lightning's ``configure_model``, where a Trainer runs the module."""

    def on_stage_start(self, model: Any) -> None:
        """At the start of fit, validation, test and predict, after Lightning cast the module to its precision."""

    def on_train_start(self, model: Any) -> None:
        """When training starts (and resumes)."""

    def before_training_step(self, model: Any) -> None:
        """At the start of every training step, inside its graph (XLA): no host reads here."""

    def on_train_batch_end(self, model: Any, batch_idx: int) -> None:
        """After every training step, outside its graph."""

    def evaluation_net(self, model: Any, net: nn.Module) -> nn.Module:
        """The network that validates, tests and predicts, given the one the techniques before chose."""
        return net

    def evaluate(self, net: Logits, x: torch.Tensor) -> torch.Tensor:
        """Evaluation logits for normalized images ``x``, given ``net`` (the techniques' after it)."""
        return net(x)


def evaluation_net_of(techniques: Iterable[Technique], model: Any, net: nn.Module) -> nn.Module:
    """The network that validates, tests and predicts: ``net``, or the techniques' choice (a weight average)."""
    for technique in techniques:
        net = technique.evaluation_net(model, net)
    return net


def attached_trainer(model: Any) -> Any:
    """The Trainer running ``model``, or None (``load_from_checkpoint``, a module used alone)."""
    try:
        return model.trainer
    except RuntimeError:  # Lightning's answer for a module no Trainer runs
        return None


def evaluate_with(techniques: Iterable[Technique], net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``net``'s logits for ``x`` through each technique's ``evaluate``, the first listed outermost."""
    logits: Logits = net
    for technique in reversed(list(techniques)):
        logits = partial(technique.evaluate, logits)
    return logits(x)


def check_one_of_each(techniques: Iterable[Technique]) -> None:
    """Raise ``LitDigitsError`` if two techniques are of one kind."""
    kinds = [type(t).__name__ for t in techniques]
    if len(set(kinds)) < len(kinds):
        raise LitDigitsError(f"the model's techniques name one kind twice ({', '.join(kinds)}); keep one of each, "
                             "in techniques or in the older flat options (compile, ema_decay, tta_flip, ...)")  # fmt: skip
