"""A fixed input layer that whitens image patches, fitted to the training images."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from lit_digits.errors import LitDigitsError


class PatchWhitening(nn.Module):
    """A fixed ``patch_size`` x ``patch_size`` convolution whose filters whiten the input's patches.

    Its ``C * patch_size**2`` filters are the eigenvectors of the (uncentred) covariance of
    all patches of the first ``fit_images`` training images, each divided by
    ``sqrt(eigenvalue + eps)``: Page's patch-whitening layer. The filters are a buffer (saved
    in checkpoints, never trained) set by :meth:`fit`; until then they are zero.

    Args:
        padding: zero padding on each side; ``None`` keeps the image size for an odd
            ``patch_size`` (``patch_size // 2``, Page's 3x3 layer); airbench's 2x2 layer has 0.
        negatives: also apply every filter negated (``2 C patch_size**2`` outputs), so that an
            activation after the layer sees both signs of each whitened component (airbench).
        bias: add a trained bias per output, initialized as ``nn.Conv2d``'s (airbench trains
            it for the first epochs only, through its own learning-rate schedule).
    """

    def __init__(
        self,
        in_channels: int = 3,
        patch_size: int = 3,
        eps: float = 1e-2,
        padding: int | None = None,
        negatives: bool = False,
        bias: bool = False,
        fit_images: int = 10_000,
    ) -> None:
        super().__init__()
        if fit_images < 1:
            raise LitDigitsError(f"a whitening layer needs at least 1 image to fit to, got fit_images={fit_images}")
        self.eps, self.negatives, self.fit_images = eps, negatives, fit_images
        self.padding = patch_size // 2 if padding is None else padding
        components = in_channels * patch_size**2
        self.out_channels = 2 * components if negatives else components
        self.register_buffer("weight", torch.zeros(self.out_channels, in_channels, patch_size, patch_size))
        bound = 1 / math.sqrt(components)
        initial_bias = nn.Parameter(torch.empty(self.out_channels).uniform_(-bound, bound)) if bias else None
        self.register_parameter("bias", initial_bias)

    @torch.no_grad()
    def fit(self, images: torch.Tensor) -> None:
        """Set the filters from ``images`` (N x C x H x W, normalized as the network's inputs)."""
        _, c, k, _ = self.weight.shape
        patches = F.unfold(images.double(), k).transpose(1, 2).reshape(-1, c * k * k)  # every patch, no padding
        covariance = patches.T @ patches / (len(patches) - 1)
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance)  # ascending; the order does not matter
        filters = eigenvectors.T / torch.sqrt(eigenvalues + self.eps)[:, None]
        if self.negatives:
            filters = torch.cat((filters, -filters))
        self.weight.copy_(filters.reshape(self.weight.shape).to(self.weight))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight, self.bias, padding=self.padding)

    def extra_repr(self) -> str:
        k = self.weight.shape[-1]
        return (
            f"{self.weight.shape[1]}, {self.out_channels}, kernel_size={k}, padding={self.padding}, eps={self.eps}, "
            f"negatives={self.negatives}, bias={self.bias is not None}, fit_images={self.fit_images}"
        )
