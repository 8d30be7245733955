"""Page's bag of tricks as techniques of the recipe module: whitening fitted when training starts, the weight
average, flip TTA, their settings, compiled under bf16, and their older flat options."""

import copy

import lightning as L
import pytest
import torch
from helpers.recipes import fast_davidnet

from lit_digits import CIFAR10DataModule, DavidNet, LitDigitsError
from lit_digits.models import AveragedViews, Compile, WeightAverage
from lit_digits.models.averaging import update_average
from lit_digits.nets import ResNet9
from lit_digits.nets.whitening import PatchWhitening


def test_whitening_is_fitted_to_the_training_images_when_training_starts(cifar_dir):
    torch.manual_seed(0)
    model = fast_davidnet(width=8)
    data = CIFAR10DataModule(cifar_dir, batch_size=16)
    trainer = L.Trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=0, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False)  # fmt: skip
    trainer.fit(model, data)
    expected = PatchWhitening(3)
    expected.fit((data.training_images(10_000) - model.mean) / model.std)
    torch.testing.assert_close(model.net[0][0].weight, expected.weight)
    torch.testing.assert_close(model.ema_net[0][0].weight, expected.weight)


def test_weight_average_moves_float_state_towards_the_network_and_leaves_counters():
    current, average = torch.nn.BatchNorm1d(2), torch.nn.BatchNorm1d(2)
    with torch.no_grad():
        current.weight.fill_(3.0), current.running_mean.fill_(2.0)
    current.num_batches_tracked.fill_(7)
    update_average(average, current, 0.25)
    assert average.weight.tolist() == [1.5, 1.5] and average.running_mean.tolist() == [0.5, 0.5]
    assert average.num_batches_tracked == 0


def test_weight_average_is_updated_every_n_steps_and_used_for_evaluation(cifar_dir):
    torch.manual_seed(0)
    model = fast_davidnet(width=8, tta_flip=False, ema_every_n_steps=2)
    replay = copy.deepcopy(model.ema_net)
    states = []

    class RecordWeights(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, *args):  # the weights the previous step left
            states.append(copy.deepcopy(pl_module.net))

    trainer = L.Trainer(max_epochs=1, limit_val_batches=0, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, callbacks=[RecordWeights()])  # fmt: skip
    trainer.fit(model, CIFAR10DataModule(cifar_dir, batch_size=16))
    assert len(states) == 6
    replay.load_state_dict({**replay.state_dict(), "0.0.weight": model.ema_net[0][0].weight})  # fitted at the start
    for step, state in enumerate(states, start=1):
        if step % 2 == 0:
            update_average(replay, state, 1 - 0.99**2)
    for name, value in replay.state_dict().items():
        torch.testing.assert_close(model.ema_net.state_dict()[name], value, msg=name)
    model.eval()
    x = torch.rand(4, 3, 32, 32)
    torch.testing.assert_close(model(x), model.ema_net((x - model.mean) / model.std))
    assert not torch.allclose(model(x), model.net((x - model.mean) / model.std))


def test_flip_tta_averages_the_logits_of_each_image_and_its_mirror():
    torch.manual_seed(0)
    model = fast_davidnet(width=8, ema_decay=0.0).eval()
    x = torch.rand(4, 3, 32, 32)
    plain = lambda images: model.net((images - model.mean) / model.std)
    torch.testing.assert_close(model(x), (plain(x) + plain(x.flip(-1))) / 2)
    torch.testing.assert_close(model(x), model(x.flip(-1)))  # so a mirror image gets the same answer
    model.train()
    torch.testing.assert_close(model(x[:0]), plain(x[:0]))  # training sees one view


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ResNet9(prep="patches"), "prep must be one of conv, whitening"),
        (lambda: ResNet9(activation="gelu"), "activation must be one of relu, celu"),
        (lambda: ResNet9(ghost_batch_splits=0), "ghost_batch_splits must be at least 1"),
        (lambda: ResNet9(celu_alpha=0), "celu_alpha must be positive"),
        (lambda: DavidNet(ema_decay=1.0), r"WeightAverage needs a decay in \(0, 1\).*got 1.0"),
        (lambda: DavidNet(ema_every_n_steps=0), "ema_every_n_steps must be at least 1"),
        (lambda: WeightAverage(decay=0.99, every_n_steps=0), "every_n_steps >= 1"),
        (lambda: DavidNet(bias_lr_factor=0), "bias_lr_factor must be > 0"),
        (lambda: DavidNet(ema_decay=0.9, techniques=[WeightAverage()]), "techniques name one kind twice"),
    ],
)
def test_trick_settings_out_of_range_are_refused(make, message):
    with pytest.raises(LitDigitsError, match=message):
        make()


@pytest.mark.slow
def test_fast_recipe_compiles_under_bf16_autocast(cifar_dir):
    model = fast_davidnet(width=8, compile=True)
    trainer = L.Trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=1, precision="bf16-mixed", logger=False,
                        enable_checkpointing=False, enable_progress_bar=False)  # fmt: skip
    trainer.fit(model, CIFAR10DataModule(cifar_dir, batch_size=32))
    (compiling,) = [t for t in model.techniques if isinstance(t, Compile)]
    assert compiling.compiled and torch.isfinite(trainer.callback_metrics["val_loss"])


def test_older_flat_options_switch_on_the_same_technique_objects_with_the_same_checkpoint_keys():
    flat = DavidNet(net=ResNet9(width=8), ema_decay=0.99, ema_every_n_steps=5, tta_flip=True)
    named = DavidNet(net=ResNet9(width=8), techniques=[WeightAverage(0.99, 5), AveragedViews(flip=True)])
    settings = [(type(t).__name__, vars(t)) for t in flat.techniques]
    assert settings == [(type(t).__name__, vars(t)) for t in named.techniques]
    assert flat.state_dict().keys() == named.state_dict().keys()
    assert "ema_steps" in named.state_dict() and "ema_net.0.0.weight" in named.state_dict()
