"""airbench's network: its parameter count, frozen parts, activations and whitening filters."""

import pytest
import torch
import torch.nn.functional as F

from lit_digits.nets import AirbenchNet


def test_network_is_airbenchs_with_frozen_whitening_and_batch_norm_scales():
    net = AirbenchNet()
    assert sum(p.numel() for p in net.parameters() if p.requires_grad) == 1_971_352
    assert net(torch.rand(4, 3, 32, 32)).shape == (4, 10)
    assert not any(n.weight.requires_grad for n in net.modules() if isinstance(n, torch.nn.BatchNorm2d))
    norm = net.group1.norm1
    assert (norm.momentum, norm.eps) == (0.4, 1e-12)
    assert "whiten.weight" in dict(net.named_buffers())  # fitted, never trained
    assert net.head.bias is None and net.head.weight.std().item() == pytest.approx(1.0)
    filters = net.group2.conv2.weight  # 256 -> 256: every filter starts as the identity
    assert torch.equal(filters[:, :, 1, 1], torch.eye(256)) and filters.sum() == 256


def test_the_conv_groups_may_have_an_activation_of_their_own():
    net = AirbenchNet(
        widths=(8, 16, 16), group_activation="silu"
    )  # hiverge's: SiLU in the groups, GELU after whitening
    assert isinstance(net.act, torch.nn.GELU)
    groups = [net.group1, net.group2, net.group3]
    assert all(isinstance(act, torch.nn.SiLU) for group in groups for act in (group.act1, group.act2))
    assert all(isinstance(group.act1, torch.nn.GELU) for group in [AirbenchNet(widths=(8, 16, 16)).group1])


def test_whitening_filters_are_the_patch_eigenvectors_and_their_negatives():
    net = AirbenchNet()
    images = torch.randn(50, 3, 32, 32)
    net.whiten.fit(images)
    w = net.whiten.weight.flatten(1)
    assert w.shape == (24, 12) and torch.allclose(w[12:], -w[:12])
    patches = F.unfold(images, 2).transpose(1, 2).reshape(-1, 12)
    whitened = patches @ w[:12].T
    covariance = whitened.T @ whitened / len(patches)
    torch.testing.assert_close(covariance, torch.eye(12), atol=0.02, rtol=0)
