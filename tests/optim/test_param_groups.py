"""Parameter groups: each its optimizer, schedule, weight decay and learning-rate factor, their rates logged per
group; airbench's per-example terms converted to them."""

import csv
from pathlib import Path

import lightning as L
import pytest
import torch
from helpers.cli import CONFIGS, built_cli
from helpers.recipes import fast_davidnet, recipe
from lightning.pytorch.loggers import CSVLogger

from lit_digits import ImageClassifier, LitDigitsError, MNISTDataModule
from lit_digits.nets import MLP
from lit_digits.optim import CombinedOptimizer, Muon, ParamGroup
from lit_digits.schedules import Constant, ExponentialDecay


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


def test_bias_parameters_get_the_learning_rate_factor_and_the_weight_decay_divided():
    optimizer, scheduler = fast_davidnet(width=8).optimizer_and_scheduler(steps_per_epoch=10, epochs=10)
    weights, biases = optimizer.param_groups
    assert len(biases["params"]) == 8 and all(p.ndim == 1 for p in biases["params"])
    assert weights["weight_decay"] == 5e-4 and biases["weight_decay"] == pytest.approx(5e-4 / 64)
    for _ in range(20):
        optimizer.step(), scheduler.step()
    assert weights["lr"] == pytest.approx(1.0) and biases["lr"] == pytest.approx(64.0)  # the peak, at epoch 2


def test_each_parameter_group_gets_its_optimizer_schedule_and_weight_decay():
    optimizer, scheduler = recipe().optimizer_and_scheduler(steps_per_epoch=10, epochs=8)
    assert isinstance(optimizer, CombinedOptimizer)
    sgd, muon = optimizer.optimizers
    assert isinstance(sgd, torch.optim.SGD) and isinstance(muon, Muon)
    assert [len(g["params"]) for g in sgd.param_groups] == [6, 1, 1]  # BatchNorm biases, head, whitening bias
    assert len(muon.param_groups[0]["params"]) == 6 and all(p.ndim == 4 for p in muon.param_groups[0]["params"])
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.0, 3e-6, 0.0, 0.0]
    for step in (0, 40):
        rates = [base * rate(step) for base, rate in zip(scheduler.base_lrs, scheduler.lr_lambdas)]
        expected = [106 * (1 - step / 80), 1340 * (1 - step / 80), 106 * max(0, 1 - step / 30), 0.24 * (1 - step / 80)]
        assert rates == pytest.approx(expected)


def test_a_group_that_matches_no_parameter_is_a_clear_error_when_the_recipe_is_built():
    with pytest.raises(LitDigitsError, match=r"param_groups\[1\].*match no trainable parameter.*whiten.bias"):
        recipe(param_groups=[ParamGroup(["net.group*.conv*.weight"]), ParamGroup(["net.group1.conv1.weight"])])


def test_one_optimizer_is_not_wrapped_and_groups_without_their_own_join_it():
    model = recipe(param_groups=[ParamGroup(["net.head.weight"], lr_schedule=Constant(0.5))])
    optimizer, scheduler = model.optimizer_and_scheduler(steps_per_epoch=10, epochs=8)
    assert type(optimizer) is torch.optim.SGD and len(optimizer.param_groups) == 2
    assert [base * rate(10) for base, rate in zip(scheduler.base_lrs, scheduler.lr_lambdas)] == pytest.approx(
        [106 * (1 - 10 / 80), 0.5]
    )


def config_model(tmp_path, monkeypatch, *args: str) -> ImageClassifier:
    """configs/cifar_air.yaml's model, as the command line builds it."""
    monkeypatch.chdir(tmp_path)
    config = ["--config", str(CONFIGS / "cifar_air.yaml"), "--trainer.logger", "false", *args]
    return built_cli(*config).model  # the model's groups: no command shows them


MEAN_LOSS_RATES = [106.0, 1340.0, 106.0, 0.24]
"""The rates cifar_air.yaml wrote before it was written in airbench's terms, per group (BatchNorm
biases, head, whitening bias, Muon's filters): bias_lr 0.053 x 2000, head_lr 0.67 x 2000, Muon's 0.24."""


MEAN_LOSS_WEIGHT_DECAYS = [3.7736e-05, 2.985e-06, 3.7736e-05, 0.0]
"""And its weight decays: 2e-6 / bias_lr, 2e-6 / head_lr, 2e-6 / bias_lr, none."""


def test_airbench_terms_convert_to_the_mean_loss_values_the_config_wrote_before(tmp_path, monkeypatch):
    optimizer, _ = config_model(tmp_path, monkeypatch).optimizer_and_scheduler(25, 8, examples_per_step=2000)
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx(MEAN_LOSS_RATES)
    assert [g["weight_decay"] for g in optimizer.param_groups] == pytest.approx(MEAN_LOSS_WEIGHT_DECAYS, rel=1e-4)


def test_another_batch_size_keeps_the_rates_per_example_as_the_reference_code_does(tmp_path, monkeypatch):
    model = config_model(tmp_path, monkeypatch, "--data.batch_size", "500")
    optimizer, _ = model.optimizer_and_scheduler(25, 8, examples_per_step=500)
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([106 / 4, 1340 / 4, 106 / 4, 0.24])
    assert [g["weight_decay"] for g in optimizer.param_groups] == pytest.approx(MEAN_LOSS_WEIGHT_DECAYS, rel=1e-4)
    unsaid, _ = model.optimizer_and_scheduler(25, 8)  # report and loops that give no batch: the published one
    assert [g["lr"] for g in unsaid.param_groups] == pytest.approx(MEAN_LOSS_RATES)
