"""The layers of Page's tricks: ghost BatchNorm and patch whitening."""

import pytest
import torch
import torch.nn.functional as F

from lit_digits import LitDigitsError
from lit_digits.nets import ResNet9
from lit_digits.nets.ghost_batch_norm import GhostBatchNorm
from lit_digits.nets.whitening import PatchWhitening


def test_ghost_batch_norm_normalizes_each_interleaved_sub_batch_on_its_own():
    torch.manual_seed(0)
    norm = GhostBatchNorm(3, splits=4)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 2), norm.bias.uniform_(-1, 1)
    x = torch.randn(8, 3, 5, 5) * 3 + 1
    y = norm(x)
    for j in range(4):
        expected = F.batch_norm(x[j::4], None, None, norm.weight, norm.bias, training=True, eps=norm.eps)
        torch.testing.assert_close(y[j::4], expected)
    norm.eval()
    mean = 0.1 * torch.stack([x[j::4].mean((0, 2, 3)) for j in range(4)]).mean(0)
    torch.testing.assert_close(norm.running_mean.view(4, 3).mean(0), mean)
    expected = F.batch_norm(x, mean, norm.running_var.view(4, 3).mean(0), norm.weight, norm.bias, eps=norm.eps)
    torch.testing.assert_close(norm(x), expected)


def test_ghost_batch_norm_refuses_a_batch_it_cannot_split():
    with pytest.raises(LitDigitsError, match="splits each batch into 16, but a batch has 20 images"):
        ResNet9(width=4, ghost_batch_splits=16)(torch.rand(20, 3, 32, 32))


def test_patch_whitening_decorrelates_the_patches_it_was_fitted_to():
    torch.manual_seed(0)
    images = torch.randn(64, 3, 12, 12) @ torch.randn(12, 12)  # correlated neighbouring pixels
    layer = PatchWhitening(3, eps=1e-8)
    layer.fit(images)
    patches = F.conv2d(images.double(), layer.weight.double())  # the patches that were fitted, no padding
    second_moment = torch.einsum("nihw,njhw->ij", patches, patches) / (patches[:, 0].numel() - 1)
    torch.testing.assert_close(second_moment, torch.eye(27, dtype=torch.float64), atol=1e-4, rtol=0)
    assert layer(images).shape == (64, 27, 12, 12)
    assert not any(p.requires_grad for p in layer.parameters())  # a buffer, never trained
