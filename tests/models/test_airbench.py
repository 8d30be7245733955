"""The airbench recipe's parts: its network, optimizer groups, alternating flip and six-view TTA."""

import csv
from pathlib import Path

import lightning as L
import pytest
import torch
import torch.nn.functional as F
import yaml
from helpers.cli import CONFIGS, SMALL_AIR

from lit_digits import CIFAR10DataModule, ImageClassifier, LitDigitsError
from lit_digits.cli import LitDigitsCLI
from lit_digits.models.views import averaged_views
from lit_digits.nets import AirbenchNet
from lit_digits.optim import CombinedOptimizer, Muon, ParamGroup
from lit_digits.optim.summed_loss import SummedLoss
from lit_digits.schedules import Constant, LinearDecay


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


def recipe(**kwargs) -> ImageClassifier:
    """configs/cifar_air.yaml's groups, from Python, on a small network."""
    groups = [
        ParamGroup(["net.group*.conv*.weight"], optimizer=Muon, lr_schedule=LinearDecay(0.24)),
        ParamGroup(["net.head.weight"], lr_schedule=LinearDecay(1340.0), weight_decay=3e-6),
        ParamGroup(["net.whiten.bias"], lr_schedule=LinearDecay(106.0, end_epoch=3)),
    ]
    options = {"optimizer": torch.optim.SGD, "lr_schedule": LinearDecay(106.0), "param_groups": groups, **kwargs}
    return ImageClassifier(AirbenchNet(widths=(8, 16, 16)), **options)


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


def alternating(cifar_dir: Path, epoch: int, seed: int = 0) -> torch.Tensor:
    torch.manual_seed(seed)
    datamodule = CIFAR10DataModule(cifar_dir, batch_size=100, crop_padding=0, flip="alternating", cutout_size=0)
    datamodule.setup("fit")
    images, _, mirrored = datamodule.train_dataloader().dataset.tensors  # in the data set's order
    return datamodule.augment(images.float() / 255, epoch, mirrored)


def test_alternating_flip_mirrors_a_fixed_half_then_every_image_in_odd_epochs(cifar_dir):
    datamodule = CIFAR10DataModule(cifar_dir, batch_size=100, crop_padding=0, flip=False)
    datamodule.setup("fit")
    original = datamodule.training_images(100)
    even, odd = alternating(cifar_dir, 0), alternating(cifar_dir, 1)
    assert torch.equal(alternating(cifar_dir, 2), even) and torch.equal(odd, even.flip(-1))
    mirrored = [not torch.equal(e, o) for e, o in zip(even, original)]
    assert 30 < sum(mirrored) < 70
    for e, o, m in zip(even, original, mirrored):
        assert torch.equal(e, o.flip(-1) if m else o)
    assert not torch.equal(alternating(cifar_dir, 0, seed=1), even)  # the run's seed draws the half


def test_alternating_flip_fits_whitening_to_the_images_as_they_are(cifar_dir):
    torch.manual_seed(0)
    datamodule = CIFAR10DataModule(cifar_dir, batch_size=100, flip="alternating")
    datamodule.setup("fit")
    plain = CIFAR10DataModule(cifar_dir, batch_size=100, flip=False)
    plain.setup("fit")
    assert torch.equal(datamodule.training_images(60), plain.training_images(60))


def test_six_view_tta_weights_the_views_as_airbench():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.LazyLinear(10))
    x = torch.randn(5, 3, 8, 8)
    padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
    views = [x, padded[..., :8, :8], padded[..., 2:, 2:]]
    mirror = [0.5 * net(v) + 0.5 * net(v.flip(-1)) for v in views]
    expected = 0.5 * mirror[0] + 0.25 * mirror[1] + 0.25 * mirror[2]
    torch.testing.assert_close(averaged_views(net, x, flip=True, translate=True), expected)
    torch.testing.assert_close(averaged_views(net, x, flip=True, translate=False), mirror[0])
    torch.testing.assert_close(averaged_views(net, x, flip=False, translate=False), net(x))


def test_recipe_trains_from_python_with_both_optimizers(cifar_dir):
    model = recipe(tta_flip=True, tta_translate=True)
    trainer = L.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    trainer.fit(model, CIFAR10DataModule(cifar_dir, batch_size=20, crop_padding=2, flip="alternating", cutout_size=0))
    for name, p in model.named_parameters():
        assert p.requires_grad == (not torch.equal(p, before[name])), name  # trained ones moved, frozen ones not
    assert 0 <= trainer.callback_metrics["val_acc"] <= 1


def test_the_record_recipe_after_it_trains_its_steps_to_a_rate_of_0(cifar_dir, tmp_path, in_process):
    # configs/cifar_hiverge.yaml: 12 steps of batch 20 on the tiny CIFAR-10 (5 an epoch): 2.4 epochs
    run = in_process.fit("cifar_hiverge", cifar_dir, *SMALL_AIR, "--trainer.max_epochs", "null", "--trainer.max_steps", "12",
                         "--trainer.limit_train_batches", "1.0", "--trainer.log_every_n_steps", "1", cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    with open(tmp_path / "runs" / "cifar_hiverge" / "version_0" / "metrics.csv") as table:
        rows = [row for row in csv.DictReader(table) if row["lr-Muon"]]
    assert int(rows[-1]["step"]) == 12 and float(rows[-1]["lr-Muon"]) == 0.0  # the linear decays end at max_steps
    assert float(rows[0]["lr-Muon"]) == pytest.approx(0.205 * (1 - 1 / 12))


def test_config_fits_and_its_checkpoint_tests_and_loads_without_code(cifar_dir, tmp_path, in_process):
    run = in_process.fit("cifar_air", cifar_dir, *SMALL_AIR, "--trainer.max_epochs", "2",
                         "--trainer.limit_train_batches", "1.0", "--trainer.log_every_n_steps", "2",
                         cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    folder = tmp_path / "runs" / "cifar_air" / "version_0"
    checkpoint = torch.load(folder / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["hyper_parameters"]["param_groups"][0]["params"] == ["net.group*.conv*.weight"]
    with open(folder / "metrics.csv") as table:
        columns = next(csv.reader(table))
    assert {"lr-SGD/pg1", "lr-SGD/pg2", "lr-SGD/pg3", "lr-Muon"} <= set(columns)
    tested = in_process.run_cli("test", "--config", str(CONFIGS / "cifar_air.yaml"), "--data.data_dir",
                                str(cifar_dir), *SMALL_AIR, "--ckpt_path", "best", cwd=tmp_path)  # fmt: skip
    assert tested.returncode == 0, tested.stderr
    assert "test_acc" in tested.stdout
    assert "each SGD step sums 20 examples' gradients, not its 2000" in run.stderr  # the batch-size rule, said


def test_config_reads_like_the_reference_hyperparameters():
    config = yaml.safe_load((CONFIGS / "cifar_air.yaml").read_text())
    model, data = config["model"]["init_args"], config["data"]["init_args"]
    assert config["trainer"]["max_epochs"] == 8 and data["batch_size"] == 2000 and data["flip"] == "alternating"
    assert model["label_smoothing"] == 0.2
    assert model["techniques"] == [{"class_path": "lit_digits.models.AveragedViews",
                                    "init_args": {"flip": True, "translate": True}}]  # fmt: skip
    assert model["summed_loss"] == {"batch_size": 2000, "weight_decay": 2e-6}  # wd = 2e-6 * batch_size
    rates = [model["lr_schedule"], *(group["lr_schedule"] for group in model["param_groups"])]
    assert [rate["init_args"]["lr"] for rate in rates] == [0.053, 0.24, 0.67, 0.053]  # bias_lr, Muon's, head_lr
    muon = model["param_groups"][0]["optimizer"]["init_args"]
    assert (muon["momentum"], muon["ns_steps"], muon["normalize_weights"]) == (0.6, 3, True)


def config_model(tmp_path, monkeypatch, *args: str) -> ImageClassifier:
    """configs/cifar_air.yaml's model, as the command line builds it."""
    monkeypatch.chdir(tmp_path)
    config = ["--config", str(CONFIGS / "cifar_air.yaml"), "--trainer.logger", "false", *args]
    return LitDigitsCLI(args=config, run=False).model


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


def test_summed_loss_refuses_a_group_that_starts_at_rate_0():
    model = recipe(summed_loss=SummedLoss(batch_size=20, weight_decay=2e-6), lr_schedule=LinearDecay(0.0))
    with pytest.raises(LitDigitsError, match="starts at rate 0"):
        model.optimizer_and_scheduler(10, 8)


def test_report_draws_every_groups_schedule_from_the_config(tmp_path, in_process):
    result = in_process.run_cli(
        "report", "--config", str(CONFIGS / "cifar_air.yaml"), "--out", str(tmp_path), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "lr_schedule.png").stat().st_size > 10_000
