"""BatchNorm kept in float32 when Lightning casts a whole model to half precision."""

from typing import Any

from torch import nn

from lit_digits.technique import Technique

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


def batch_norm_to_float32(model: nn.Module) -> None:
    """Under ``16-true``/``bf16-true`` precision Lightning casts the whole model to half; BatchNorm's
    running statistics and affine terms go back to float32 (PyTorch's BatchNorm takes half inputs
    with float32 parameters on CPU, CUDA and XLA), so that its averages do not round away."""
    for module in model.modules():
        if isinstance(module, BATCH_NORMS):
            module.float()


class Float32BatchNorm(Technique):
    """``batch_norm_to_float32`` at the start of every stage, after Lightning's cast."""

    def on_stage_start(self, model: Any) -> None:
        batch_norm_to_float32(model)
