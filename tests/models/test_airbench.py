"""The airbench recipes: six-view TTA, training from Python with both optimizers, the configs fit, test, load
without code and read like the reference (the network: tests/nets, its groups: tests/optim, alternating flip: tests/data)."""

import csv

import lightning as L
import pytest
import torch
import torch.nn.functional as F
import yaml
from helpers.cli import CONFIGS, SMALL_AIR, whole_epochs
from helpers.recipes import recipe

from lit_digits import CIFAR10DataModule, LitDigitsError
from lit_digits.models.views import averaged_views
from lit_digits.optim.summed_loss import SummedLoss
from lit_digits.schedules import LinearDecay


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
    run = in_process.fit("cifar_air", cifar_dir, *SMALL_AIR, *whole_epochs(2), "--trainer.log_every_n_steps", "2",
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


def test_summed_loss_refuses_a_group_that_starts_at_rate_0():
    model = recipe(summed_loss=SummedLoss(batch_size=20, weight_decay=2e-6), lr_schedule=LinearDecay(0.0))
    with pytest.raises(LitDigitsError, match="starts at rate 0"):
        model.optimizer_and_scheduler(10, 8)
