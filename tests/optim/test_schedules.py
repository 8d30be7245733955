"""Learning-rate schedules as a fit steps them: per step, over fractional epochs, under gradient accumulation,
and for a fit named in steps."""

import math

import lightning as L
import pytest
import torch

from lit_digits import DavidNet, ImageClassifier, LitDigitsError, MNISTDataModule, TPUConvNet
from lit_digits.models.schedule_span import epochs_run
from lit_digits.nets import MLP
from lit_digits.schedules import EpochDecay, ExponentialDecay, LinearDecay, PiecewiseLinear, Triangular


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


def test_schedule_ending_at_max_epochs_refuses_a_run_shorter_than_its_warmup():
    with pytest.raises(LitDigitsError, match="max_epochs 3 ends the run before the schedule's peak_epoch 5"):
        Triangular()(0, 10, 3)


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
