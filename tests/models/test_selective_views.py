"""SelectiveViews: test-time views only for the images a network is least sure of, added to a recipe as one
more technique object, with no change to the recipe module."""

import pytest
import torch
from torch import nn

from lit_digits import LitDigitsError
from lit_digits.models import ImageClassifier, SelectiveViews
from lit_digits.models.views import six_views


@pytest.fixture
def net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 10))


def test_six_views_are_the_image_its_two_shifts_and_their_mirrors_weighted_alike(net):
    x = torch.rand(4, 3, 8, 8)
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1), mode="reflect")
    views = [x, padded[..., :8, :8], padded[..., 2:, 2:]]
    expected = sum(net(v) + net(v.flip(-1)) for v in views) / 6
    torch.testing.assert_close(six_views(net, x), expected)


def test_only_the_least_confident_fraction_of_a_batch_takes_the_views(net):
    x = torch.rand(8, 3, 8, 8)
    plain = net(x)
    confidence = plain.softmax(dim=-1).amax(dim=-1)
    unsure = set(confidence.argsort()[:2].tolist())  # a quarter of 8
    got = SelectiveViews(fraction=0.25).evaluate(net, x)
    for i in range(8):
        expected = six_views(net, x[i : i + 1])[0] if i in unsure else plain[i]
        torch.testing.assert_close(got[i], expected)


def test_a_batch_too_small_for_one_unsure_image_is_evaluated_once(net):
    x = torch.rand(3, 3, 8, 8)
    torch.testing.assert_close(SelectiveViews(fraction=0.25).evaluate(net, x), net(x))


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5])
def test_a_fraction_outside_0_to_1_is_refused(fraction):
    with pytest.raises(LitDigitsError, match=r"fraction must be in \(0, 1\]"):
        SelectiveViews(fraction=fraction)


def test_a_recipe_names_it_and_evaluates_with_it_and_its_checkpoint_loads(tmp_path):
    torch.manual_seed(0)
    views = {"class_path": "lit_digits.models.SelectiveViews", "init_args": {"fraction": 1.0}}
    mlp = {"class_path": "lit_digits.nets.MLP", "init_args": {"hidden": [16]}}
    model = ImageClassifier(net=mlp, techniques=[views]).eval()
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(model(x), six_views(model.net, x))  # fraction 1: every image
    model.train()
    with torch.no_grad():
        torch.testing.assert_close(model(x), model.net(x))  # training sees each image once
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams),
                "pytorch-lightning_version": "2.6.6"}, tmp_path / "views.ckpt")  # fmt: skip
    loaded = ImageClassifier.load_from_checkpoint(tmp_path / "views.ckpt")
    assert [type(t) for t in loaded.techniques][-1] is SelectiveViews and loaded.techniques[-1].fraction == 1.0
