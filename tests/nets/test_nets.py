"""The networks: shapes, parameter counts, padding, and what their options change."""

import torch
from helpers.recipes import FAST_NET, trainable

from lit_digits import DavidNet
from lit_digits.nets import MLP, ConvNet, ResNet9


def test_mlp_without_hidden_layers_is_one_dense_softmax_layer():
    assert trainable(MLP(hidden=[])) == 784 * 10 + 10


def test_convnet_pads_like_tensorflow_same_for_every_kernel_and_stride():
    for kernel in (2, 3, 5, 6):
        for stride in (1, 2, 3):
            net = ConvNet(channels=[4], kernel_sizes=[kernel], strides=[stride], dense=[], dropout=0)
            features = net.layers[:-1](torch.rand(1, 1, 28, 28))
            assert features.shape == (1, 4 * (-(-28 // stride)) ** 2), (kernel, stride)


def test_codelab_convnet_is_a_configuration_not_a_class():
    # 12-24-32 (3x3, 6x6/2, 6x6/2), dense 200 without bias, Keras BatchNorm without scale, dropout 0.3.
    net = ConvNet(channels=[12, 24, 32], dense=[200], dropout=0.3)
    convs = 1 * 12 * 9 + 12 * 24 * 36 + 24 * 32 * 36
    assert trainable(net) == convs + 32 * 7 * 7 * 200 + 200 * 10 + 10 + (12 + 24 + 32 + 200)
    assert net(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_fenwicks_variant_learns_the_batch_norm_scale_and_has_no_classifier_bias():
    default, fenwicks = ConvNet(), ConvNet(bn_scale=True, classifier_bias=False)
    assert trainable(fenwicks) == trainable(default) + (6 + 12 + 24 + 200) - 10


def test_davidnet_scales_logits_by_logit_scale():
    torch.manual_seed(0)
    unscaled = DavidNet(net=ResNet9(logit_scale=1.0)).eval()
    scaled = DavidNet(net=ResNet9(logit_scale=0.125)).eval()
    scaled.load_state_dict(unscaled.state_dict())
    x = torch.rand(3, 3, 32, 32)
    torch.testing.assert_close(scaled(x), unscaled(x) * 0.125)


def test_fast_network_freezes_the_batch_norm_scales_and_keeps_the_default_network_unchanged():
    fast = ResNet9(**FAST_NET)
    assert sum(p.numel() for p in fast.parameters() if p.requires_grad) == 6_573_120 - 2240  # 2240 frozen scales
    assert fast(torch.rand(32, 3, 32, 32)).shape == (32, 10)
    default = [type(m).__name__ for m in ResNet9()[1]]
    assert default == ["Conv2d", "BatchNorm2d", "ReLU"]  # the pool follows the block, as published
    assert [type(m).__name__ for m in fast[1]] == ["Conv2d", "MaxPool2d", "GhostBatchNorm", "CELU"]
