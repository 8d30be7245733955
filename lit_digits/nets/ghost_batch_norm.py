"""Ghost BatchNorm: batch statistics over small sub-batches, a regularizer for large batches."""

import torch
import torch.nn.functional as F
from torch import nn

from lit_digits.errors import LitDigitsError


class GhostBatchNorm(nn.BatchNorm2d):
    """``BatchNorm2d`` that normalizes each of ``splits`` sub-batches with its own statistics.

    In training, a batch of N images is normalized as ``splits`` interleaved sub-batches of
    N / ``splits`` (images i, i + splits, i + 2 splits, ... form one), each keeping its own
    running mean and variance; in evaluation, those running figures are averaged over the
    sub-batches. This is the "ghost batch norm" of Page's bag of tricks (16 splits of 32
    images at batch 512). The scale and shift are shared by all sub-batches.
    """

    def __init__(self, num_features: int, splits: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        if splits < 1:
            raise LitDigitsError(f"ghost batch norm splits must be at least 1, got {splits}")
        super().__init__(num_features, eps=eps, momentum=momentum)
        self.splits = splits
        self.running_mean = torch.zeros(splits * num_features)
        self.running_var = torch.ones(splits * num_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            mean = self.running_mean.view(self.splits, -1).mean(0)
            var = self.running_var.view(self.splits, -1).mean(0)
            return F.batch_norm(x, mean, var, self.weight, self.bias, False, 0.0, self.eps)
        n, c, h, w = x.shape
        if n % self.splits:
            raise LitDigitsError(
                f"ghost batch norm splits each batch into {self.splits}, but a batch has {n} images; "
                "use a batch size divisible by it (--data.batch_size) or change ghost_batch_splits"
            )
        ghosts = x.reshape(n // self.splits, self.splits * c, h, w)  # a view, unless x is channels-last
        normalized = F.batch_norm(
            ghosts,
            self.running_mean,
            self.running_var,
            self.weight.repeat(self.splits),
            self.bias.repeat(self.splits),
            True,
            self.momentum,
            self.eps,
        )
        return normalized.view(n, c, h, w)
