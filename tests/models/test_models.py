"""The networks and recipes: shapes, parameter counts, schedules, checkpoints."""

import csv
import math
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.loggers import CSVLogger

from lit_digits import (
    ChannelsLast,
    CIFAR10DataModule,
    DavidNet,
    ImageClassifier,
    LitDigitsError,
    MNISTDataModule,
    TPUConvNet,
)
from lit_digits.models import Compile
from lit_digits.models.schedule_span import epochs_run
from lit_digits.nets import MLP, ConvNet, ResNet9
from lit_digits.schedules import Constant, EpochDecay, ExponentialDecay, LinearDecay, PiecewiseLinear, Triangular


def trainable(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


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


def test_normalization_is_saved_with_the_model():
    state = DavidNet().state_dict()
    torch.testing.assert_close(state["mean"].flatten(), torch.tensor([125.31, 122.95, 113.87]) / 255)
    torch.testing.assert_close(state["std"].flatten(), torch.tensor([62.99, 62.09, 66.70]) / 255)


def lr_per_step(model: L.LightningModule, steps: int, max_epochs: int, batches: int) -> list[float]:
    """Learning rates the model's own scheduler gives, stepped as Lightning steps it."""

    class _Trainer:  # one process, no accumulation, an epoch cut to ``batches`` batches of one image
        num_devices = num_nodes = accumulate_grad_batches = 1
        limit_train_batches = batches
        datamodule = MNISTDataModule(batch_size=1)

    _Trainer.max_epochs = max_epochs
    model.trainer = _Trainer()
    config = model.configure_optimizers()
    optimizer, scheduler = config["optimizer"], config["lr_scheduler"]["scheduler"]
    assert config["lr_scheduler"]["interval"] == "step"
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def test_davidnet_schedule_is_triangular_over_fractional_epochs():
    rates = lr_per_step(DavidNet(), 24 * 97, max_epochs=24, batches=97)
    assert rates[0] == 0
    assert rates[5 * 97] == pytest.approx(0.4)
    assert rates[97] == pytest.approx(0.4 / 5)
    assert rates[97 // 2] == pytest.approx(0.4 * (97 // 2) / 97 / 5)
    assert rates[(5 + 19 // 2) * 97] == pytest.approx(0.4 * (1 - (19 // 2) / 19))
    assert rates[-1] == pytest.approx(0.4 / (19 * 97))


def test_tpu_convnet_schedule_decays_exponentially_per_step():
    rates = lr_per_step(TPUConvNet(), 4001, max_epochs=10, batches=234)
    assert rates[0] == pytest.approx(0.0101)
    assert rates[2000] == pytest.approx(0.0001 + 0.01 / math.e)
    assert rates[4000] == pytest.approx(ExponentialDecay(0.01, 2000, 0.0001)(4000, 234, 10))


def test_epoch_decay_is_constant_within_an_epoch_like_keras_learning_rate_scheduler():
    model = TPUConvNet(lr_schedule=EpochDecay(lr=0.01, factor=0.666))
    rates = lr_per_step(model, 3 * 10, max_epochs=3, batches=10)
    assert rates[:10] == [pytest.approx(0.01)] * 10
    assert rates[10] == pytest.approx(0.00666) and rates[29] == pytest.approx(0.01 * 0.666**2)


def test_optimizer_and_schedule_are_values_not_subclasses():
    model = TPUConvNet(
        optimizer=lambda params: torch.optim.SGD(params, lr=123.0, momentum=0.5),
        lr_schedule=PiecewiseLinear(epochs=[0, 1], lrs=[0.0, 1.0]),
    )
    rates = lr_per_step(model, 5, max_epochs=1, batches=4)
    assert rates == [pytest.approx(r) for r in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert isinstance(model.configure_optimizers()["optimizer"], torch.optim.SGD)


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


def test_schedule_ending_at_max_epochs_refuses_a_run_shorter_than_its_warmup():
    with pytest.raises(LitDigitsError, match="max_epochs 3 ends the run before the schedule's peak_epoch 5"):
        Triangular()(0, 10, 3)


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


def test_learning_rates_are_logged_per_parameter_group_as_the_schedule_gives_them(mnist_dir, tmp_path):
    model = ImageClassifier(net=MLP(hidden=[16]), optimizer=torch.optim.SGD,
                            lr_schedule=ExponentialDecay(lr=0.1, decay_steps=3, min_lr=0.0), bias_lr_factor=4)  # fmt: skip
    trainer = L.Trainer(max_epochs=2, limit_val_batches=0, log_every_n_steps=2, enable_checkpointing=False,
                        enable_progress_bar=False, logger=CSVLogger(tmp_path))  # fmt: skip
    trainer.fit(model, MNISTDataModule(mnist_dir, batch_size=16))
    with open(Path(trainer.logger.log_dir) / "metrics.csv") as table:
        rows = [row for row in csv.DictReader(table) if row["lr-SGD/pg1"]]
    assert [int(row["step"]) for row in rows] == [2, 4, 6, 8, 10, 12]
    for row in rows:  # each logged step's own rate; the biases' group at 4x it
        rate = model.optimization.lr_schedule(int(row["step"]), steps_per_epoch=6, epochs=2)
        assert float(row["lr-SGD/pg1"]) == pytest.approx(rate)
        assert float(row["lr-SGD/pg2"]) == pytest.approx(4 * rate)


@pytest.mark.parametrize(("accumulate", "steps"), [(1, 6), (2, 3), (4, 2)])  # 6 batches; 4: a last, partial pair
def test_the_schedule_spans_the_optimizer_steps_of_an_epoch_under_gradient_accumulation(mnist_dir, accumulate, steps):
    model = ImageClassifier(net=MLP(hidden=[8]), optimizer=torch.optim.SGD, lr_schedule=LinearDecay(lr=1.0))
    datamodule = MNISTDataModule(mnist_dir, batch_size=16)  # 96 training images
    trainer = L.Trainer(max_epochs=1, accumulate_grad_batches=accumulate, limit_val_batches=0, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False)  # fmt: skip
    trainer.fit(model, datamodule)
    assert trainer.global_step == datamodule.steps_per_epoch(trainer) == steps
    assert trainer.optimizers[0].param_groups[0]["lr"] == 0.0  # the linear decay's end: the last step's, not later


@pytest.mark.parametrize(("max_epochs", "max_steps", "epochs"), [(None, 9, 1.5), (2, -1, 2)])
def test_a_fit_named_in_steps_ends_its_schedule_at_its_last_step(mnist_dir, max_epochs, max_steps, epochs):
    model = ImageClassifier(net=MLP(hidden=[8]), optimizer=torch.optim.SGD, lr_schedule=LinearDecay(lr=1.0))
    datamodule = MNISTDataModule(mnist_dir, batch_size=16)  # 96 training images: 6 steps an epoch
    trainer = L.Trainer(max_epochs=max_epochs, max_steps=max_steps, limit_val_batches=0, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False)  # fmt: skip
    assert epochs_run(trainer, 6) == epochs
    trainer.fit(model, datamodule)
    assert trainer.global_step == 6 * epochs
    assert trainer.optimizers[0].param_groups[0]["lr"] == 0.0  # the linear decay's end, at the last step


def test_max_steps_beside_max_epochs_cuts_a_run_short_and_leaves_its_schedule():
    assert epochs_run(L.Trainer(max_epochs=3, max_steps=9, logger=False), 6) == 3


def test_a_fit_without_a_length_is_refused():
    with pytest.raises(LitDigitsError, match="set --trainer.max_epochs or --trainer.max_steps"):
        epochs_run(L.Trainer(max_epochs=-1, logger=False), 6)


def test_non_finite_loss_stops_training_and_names_the_step(cifar_dir):
    model = DavidNet(net=ResNet9(width=4), lr_schedule=PiecewiseLinear(epochs=[0, 3], lrs=[1e30, 1e30]))
    trainer = L.Trainer(max_epochs=3, logger=False, enable_checkpointing=False, enable_progress_bar=False)
    with pytest.raises(LitDigitsError, match=r"loss became inf or nan between steps 1 and \d+ .*lr_schedule"):
        trainer.fit(model, CIFAR10DataModule(cifar_dir, batch_size=16))
    assert trainer.global_step < 3 * 6


def test_channels_last_callback_trains_with_nhwc_weights(cifar_dir):
    model = DavidNet(net=ResNet9(width=4), lr_schedule=PiecewiseLinear(epochs=[0, 1], lrs=[0.4, 0.0]))
    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        callbacks=[ChannelsLast()])  # fmt: skip
    trainer.fit(model, CIFAR10DataModule(cifar_dir, batch_size=16))
    conv = model.net[0][0]
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.isfinite(trainer.callback_metrics["val_loss"])


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
