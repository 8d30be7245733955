"""Muon: momentum whose update is orthogonalized by a Newton-Schulz iteration, for convolution filters."""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch.optim import Optimizer

import lit_digits.precision
from lit_digits.errors import LitDigitsError
from lit_digits.optim.stepping import loss_of, with_gradients

QUINTIC = (3.4445, -4.7750, 2.0315)
"""The Newton-Schulz coefficients of Keller Jordan's Muon (and of ``torch.optim.Muon``)."""


def orthogonalize(
    g: torch.Tensor, steps: int, coefficients: Sequence[float], eps: float, dtype: torch.dtype = torch.bfloat16
) -> torch.Tensor:
    """About ``U V^T`` of ``g = U S V^T`` (2-D), by ``steps`` quintic Newton-Schulz iterations in ``dtype``.

    The coefficients push small singular values up fast rather than converging, so the result
    has singular values roughly in [0.5, 1.5] (Jordan's note on the method), and bfloat16's
    rounding does not matter to it.
    """
    a, b, c = coefficients
    x = g.to(dtype)
    x = x / (x.norm() + eps)  # the spectral norm at most 1
    tall = g.shape[0] > g.shape[1]
    if tall:
        x = x.T
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


class Muon(Optimizer):
    """Muon on parameters of any shape, each seen as a matrix of ``len(p)`` rows (a convolution's
    filters flattened, as airbench does): ``m = momentum m + g``, then with Nesterov
    ``u = g + momentum m`` (else ``u = m``), ``p -= lr orthogonalize(u)``.

    Args:
        normalize_weights: before each update, rescale ``p`` to Frobenius norm ``sqrt(len(p))``
            (airbench94's Muon, for filters followed by BatchNorm, whose output does not
            depend on their scale: the rescaling keeps the effective step size steady).
        normalize_every: rescale only before every this many updates, the ``normalize_every``-th,
            2 x ``normalize_every``-th, ... (hiverge's record recipe: 8); 1, before each.
        weight_decay: decoupled, as ``torch.optim.Muon``'s: ``p *= 1 - lr weight_decay``.

    The Newton-Schulz iterations run in bfloat16 where the device multiplies it natively
    (``lit_digits.precision.native_bf16``), as the reference's do, and in float32 elsewhere,
    where bfloat16 would be many times slower.

    The update is ``torch.optim.Muon``'s with ``adjust_lr_fn`` "original" for matrices with no
    more rows than columns (tests/optim/test_muon.py compares them); torch's takes 2-D parameters
    only, and has no weight normalization. Its momentum ``m = momentum m + (1 - momentum) g``
    differs from this one by a constant factor, which the orthogonalization removes.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 0.02,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_steps: int = 5,
        ns_coefficients: Sequence[float] = QUINTIC,
        eps: float = 1e-7,
        weight_decay: float = 0.0,
        normalize_weights: bool = False,
        normalize_every: int = 1,
    ) -> None:
        if (
            lr < 0
            or not 0 <= momentum < 1
            or weight_decay < 0
            or min(ns_steps, normalize_every) < 1
            or len(ns_coefficients) != 3
        ):
            raise LitDigitsError(
                "Muon needs lr >= 0, momentum in [0, 1), weight_decay >= 0, ns_steps >= 1, normalize_every >= 1 and "
                f"three ns_coefficients; got {lr}, {momentum}, {weight_decay}, {ns_steps}, {normalize_every}, "
                f"{list(ns_coefficients)}"
            )
        defaults = {"lr": lr, "momentum": momentum, "nesterov": nesterov, "ns_steps": ns_steps,
                    "ns_coefficients": tuple(ns_coefficients), "eps": eps, "weight_decay": weight_decay,
                    "normalize_weights": normalize_weights, "normalize_every": normalize_every}  # fmt: skip
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = loss_of(closure)
        for group, p, state in with_gradients(self):
            if "momentum_buffer" not in state:
                state["momentum_buffer"], state["updates"] = torch.zeros_like(p.grad), 0
            state["updates"] = state.get("updates", 0) + 1  # a count on the host: no device value read
            buffer = state["momentum_buffer"].mul_(group["momentum"]).add_(p.grad)
            update = p.grad.add(buffer, alpha=group["momentum"]) if group["nesterov"] else buffer
            if group["normalize_weights"] and state["updates"] % group.get("normalize_every", 1) == 0:
                p.mul_(len(p) ** 0.5 / p.norm())
            if group["weight_decay"]:
                p.mul_(1 - group["lr"] * group["weight_decay"])
            matrix = update.reshape(len(update), -1)
            dtype = torch.bfloat16 if lit_digits.precision.native_bf16(p.device.type) else torch.float32
            step = orthogonalize(matrix, group["ns_steps"], group["ns_coefficients"], group["eps"], dtype)
            p.add_(step.view_as(p).to(p.dtype), alpha=-group["lr"])
        return loss
