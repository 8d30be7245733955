"""A fixed input layer that whitens image patches, fitted to the training images."""

import torch
import torch.nn.functional as F
from torch import nn


class PatchWhitening(nn.Module):
    """A fixed ``patch_size`` x ``patch_size`` convolution whose filters whiten the input's patches.

    Its ``C * patch_size**2`` filters are the eigenvectors of the (uncentred) covariance of
    all patches of a set of training images, each divided by ``sqrt(eigenvalue + eps)``:
    Page's patch-whitening layer. The filters are a buffer (saved in checkpoints, never
    trained) set by :meth:`fit`; until then they are zero.
    """

    def __init__(self, in_channels: int = 3, patch_size: int = 3, eps: float = 1e-2) -> None:
        super().__init__()
        self.eps = eps
        self.out_channels = in_channels * patch_size**2
        self.register_buffer("weight", torch.zeros(self.out_channels, in_channels, patch_size, patch_size))

    @torch.no_grad()
    def fit(self, images: torch.Tensor) -> None:
        """Set the filters from ``images`` (N x C x H x W, normalized as the network's inputs)."""
        _, c, k, _ = self.weight.shape
        patches = F.unfold(images.double(), k).transpose(1, 2).reshape(-1, c * k * k)  # every patch, no padding
        covariance = patches.T @ patches / (len(patches) - 1)
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance)  # ascending; the order does not matter
        filters = eigenvectors.T / torch.sqrt(eigenvalues + self.eps)[:, None]
        self.weight.copy_(filters.reshape(self.weight.shape).to(self.weight))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight, padding=self.weight.shape[-1] // 2)

    def extra_repr(self) -> str:
        return f"{self.weight.shape[1]}, {self.out_channels}, kernel_size={self.weight.shape[-1]}, eps={self.eps}"
