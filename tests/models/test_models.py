"""The recipe module: the recipes' parameter counts and normalization, what it refuses, training with
a plain Trainer (bf16, epoch figures, a loss that diverges), compiled models' checkpoints."""

import lightning as L
import pytest
import torch
from helpers.recipes import trainable

from lit_digits import CIFAR10DataModule, DavidNet, ImageClassifier, LitDigitsError, MNISTDataModule, TPUConvNet
from lit_digits.models import Compile
from lit_digits.nets import MLP, ConvNet, ResNet9
from lit_digits.schedules import Constant, EpochDecay, ExponentialDecay, PiecewiseLinear, Triangular


def test_davidnet_has_published_parameter_count_and_output_shape():
    model = DavidNet()
    assert trainable(model) == 6_573_120
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 10)


def test_tpu_convnet_has_published_parameter_count_and_fixed_bn_scale():
    model = TPUConvNet()
    assert trainable(model) == 250_466
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert all(n.momentum == 0.01 and n.eps == 1e-3 and not n.weight.requires_grad for n in norms)


def test_normalization_is_saved_with_the_model():
    state = DavidNet().state_dict()
    torch.testing.assert_close(state["mean"].flatten(), torch.tensor([125.31, 122.95, 113.87]) / 255)
    torch.testing.assert_close(state["std"].flatten(), torch.tensor([62.99, 62.09, 66.70]) / 255)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ExponentialDecay(lr=-0.1), "lr must be a learning rate >= 0"),
        (lambda: ExponentialDecay(decay_steps=0), "decay_steps must be > 0"),
        (lambda: EpochDecay(factor=1.5), "factor must be in"),
        (lambda: PiecewiseLinear(epochs=[0, 5], lrs=[0.1]), "same number"),
        (lambda: PiecewiseLinear(epochs=[5, 0], lrs=[0.1, 0.2]), "not decreasing"),
        (lambda: Triangular(peak_epoch=-1), "peak_epoch must be >= 0"),
        (lambda: ConvNet(channels=[4, 8], kernel_sizes=[3]), "one entry per convolution"),
        (lambda: ConvNet(dropout=1.0), "dropout must be in"),
        (lambda: MLP(activation="tanhh"), "activation must be one of"),
    ],
)
def test_recipe_values_out_of_range_are_refused_with_what_is_allowed(make, message):
    with pytest.raises(LitDigitsError, match=message):
        make()


def test_checkpoint_of_another_model_is_refused(tmp_path):
    checkpoint = {"lit_digits_model": "DavidNet"}
    with pytest.raises(LitDigitsError, match="holds a DavidNet, not a TPUConvNet"):
        TPUConvNet().on_load_checkpoint(checkpoint)


def test_model_for_other_channels_is_refused_before_training(mnist_dir):
    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False)
    with pytest.raises(LitDigitsError, match="DavidNet takes 3-channel images but MNISTDataModule gives 1"):
        trainer.fit(DavidNet(), MNISTDataModule(mnist_dir, batch_size=8))


def test_public_api_trains_with_a_plain_trainer(mnist_dir):
    torch.manual_seed(0)
    model = TPUConvNet()
    trainer = L.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False)
    trainer.fit(model, MNISTDataModule(mnist_dir, batch_size=16))
    assert trainer.global_step == 2 * (96 // 16)
    assert 0 <= trainer.callback_metrics["val_acc"] <= 1


@pytest.mark.parametrize("precision", ["bf16-true", "bf16-mixed"])
def test_bf16_training_keeps_batch_norm_statistics_and_loss_in_float32(mnist_dir, precision):
    torch.manual_seed(0)
    model = TPUConvNet()
    trainer = L.Trainer(max_epochs=1, precision=precision, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False)  # fmt: skip
    trainer.fit(model, MNISTDataModule(mnist_dir, batch_size=16))
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert all(n.running_var.dtype == torch.float32 and n.bias.dtype == torch.float32 for n in norms)
    assert all(n.num_batches_tracked == 96 // 16 for n in norms)
    assert trainer.callback_metrics["train_loss"].dtype == torch.float32
    assert torch.isfinite(trainer.callback_metrics["val_loss"])


def test_epoch_training_loss_and_accuracy_are_those_of_the_epochs_batches(mnist_dir):
    """At a learning rate of 0 the network stays as it started, so the epoch's logged figures
    must be its mean batch loss and its accuracy over the training images (6 equal batches)."""
    torch.manual_seed(0)
    model = ImageClassifier(net=MLP(hidden=[16]), lr_schedule=Constant(lr=0.0))
    datamodule = MNISTDataModule(mnist_dir, batch_size=16)
    trainer = L.Trainer(max_epochs=2, limit_val_batches=0, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False)  # fmt: skip
    trainer.fit(model, datamodule)
    images, labels = map(torch.cat, zip(*datamodule.train_dataloader()))
    with torch.no_grad():
        logits = model(images.float() / 255)
    expected_loss = torch.nn.functional.cross_entropy(logits, labels)
    expected_acc = (logits.argmax(-1) == labels).float().mean()
    torch.testing.assert_close(trainer.callback_metrics["train_loss"], expected_loss)
    torch.testing.assert_close(trainer.callback_metrics["train_acc"], expected_acc)


def test_non_finite_loss_stops_training_and_names_the_step(cifar_dir):
    model = DavidNet(net=ResNet9(width=4), lr_schedule=PiecewiseLinear(epochs=[0, 3], lrs=[1e30, 1e30]))
    trainer = L.Trainer(max_epochs=3, logger=False, enable_checkpointing=False, enable_progress_bar=False)
    with pytest.raises(LitDigitsError, match=r"loss became inf or nan between steps 1 and \d+ .*lr_schedule"):
        trainer.fit(model, CIFAR10DataModule(cifar_dir, batch_size=16))
    assert trainer.global_step < 3 * 6


def compiled(model: ImageClassifier) -> bool | None:
    """Whether the model's ``Compile`` technique compiled its networks; None without one."""
    return next((t.compiled for t in model.techniques if isinstance(t, Compile)), None)


@pytest.mark.slow
def test_compiled_and_uncompiled_models_share_checkpoints(mnist_dir, tmp_path):
    torch.manual_seed(0)
    model = ImageClassifier(net=MLP(hidden=[16]), compile=True)
    trainer = L.Trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=0, logger=False,
                        enable_progress_bar=False, default_root_dir=tmp_path)  # fmt: skip
    trainer.fit(model, MNISTDataModule(mnist_dir, batch_size=16))  # a Path, stored as str
    assert compiled(model)
    trainer.save_checkpoint(tmp_path / "compiled.ckpt")
    plain = ImageClassifier.load_from_checkpoint(tmp_path / "compiled.ckpt", net=MLP(hidden=[16]), compile=False)
    assert compiled(plain) is None and plain.state_dict().keys() == model.state_dict().keys()
    for name, value in model.state_dict().items():
        torch.testing.assert_close(plain.state_dict()[name], value, rtol=0, atol=0, msg=name)
    again = ImageClassifier(net=MLP(hidden=[16]), compile=True)
    again.load_state_dict(plain.state_dict())  # and back: the same keys
    as_saved = ImageClassifier.load_from_checkpoint(tmp_path / "compiled.ckpt", net=MLP(hidden=[16]))  # as report does
    assert compiled(as_saved) is False  # compiled only once a Trainer runs it


@pytest.mark.slow
def test_unknown_compile_mode_is_refused():
    with pytest.raises(
        LitDigitsError, match="compile_mode in older configs\\) must be one of default, reduce-overhead, max-autotune"
    ):
        TPUConvNet(compile=True, compile_mode="fastest")
