"""Interrupted runs resume from ``last`` to the same weights as an uninterrupted run."""

import csv
from pathlib import Path

import pytest
import torch
from helpers.cli import PROBES, SMALL_AIR, SMALL_DAVIDNET, SMALL_FAST, fit, whole_epochs

pytestmark = pytest.mark.slow  # every test here starts another process

THREE_EPOCHS = whole_epochs(3)


def last_checkpoint(root: Path, config: str, version: int) -> dict:
    return torch.load(root / "runs" / config / f"version_{version}" / "checkpoints" / "last.ckpt", weights_only=False)


def best_score(checkpoint: dict) -> float:
    """The best val_acc so far, as best.ckpt's checkpoint callback saved it."""
    (state,) = [state for key, state in checkpoint["callbacks"].items() if "val_acc" in key]
    return float(state["best_model_score"])


def final_weights(checkpoint: dict) -> dict[str, torch.Tensor]:
    assert checkpoint["epoch"] == 2
    return checkpoint["state_dict"]


@pytest.mark.parametrize(
    ("config", "small"),
    # cifar_fast: the weight average too; cifar_air: two optimizers, alternating flip; cifar_hiverge:
    # colour jitter, and Muon's renormalization every 8th step, in epochs 1 and 2 (6 steps an epoch)
    [
        ("cifar", SMALL_DAVIDNET),
        ("cifar_fast", SMALL_FAST),
        ("cifar_air", [*SMALL_AIR, "--data.batch_size", "16"]),
        ("cifar_hiverge", [*SMALL_AIR, "--data.batch_size", "16", "--trainer.max_steps", "-1"]),
    ],
)
def test_killed_run_resumes_from_last_to_the_same_final_weights(cifar_dir, tmp_path, config, small):
    tiny = [*small, *THREE_EPOCHS]
    straight = fit(config, cifar_dir, *tiny, cwd=tmp_path)
    assert straight.returncode == 0, straight.stderr

    probe = {"PYTHONPATH": PROBES}
    killed = fit(config, cifar_dir, *tiny, "--trainer.callbacks+=kill_probe.KillAtEpoch",
                 "--trainer.callbacks.epoch", "1", cwd=tmp_path, env=probe)  # fmt: skip
    assert killed.returncode == -9
    # last.ckpt, written at epoch 0's end, holds that epoch's best.ckpt score (it is written
    # after the best.ckpt update), so a resumed run can tell whether a later epoch beats it.
    killed_run = tmp_path / "runs" / config / "version_1"
    (epoch_0,) = [
        float(row["val_acc"]) for row in csv.DictReader((killed_run / "metrics.csv").open()) if row["val_acc"]
    ]
    assert best_score(last_checkpoint(tmp_path, config, 1)) == pytest.approx(epoch_0)
    resumed = fit(config, cifar_dir, *tiny, "--ckpt_path", "last", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "Restoring states from the checkpoint path at" in resumed.stderr + resumed.stdout
    assert "version_1" in resumed.stderr + resumed.stdout
    assert "which ended without releasing it; this fit takes it over" in resumed.stderr  # the killed run's hold

    # The resumed run continues in its own folder: one metrics.csv holds all three epochs.
    runs = tmp_path / "runs" / config
    assert sorted(p.name for p in runs.iterdir()) == ["version_0", "version_1"]
    val_acc = {row["epoch"]: float(row["val_acc"]) for row in csv.DictReader((runs / "version_1" / "metrics.csv").open())
               if row["val_acc"]}  # fmt: skip
    assert val_acc.keys() == {"0", "1", "2"}
    assert (runs / "version_1" / "config.yaml").is_file() and (runs / "version_1" / "config.resume1.yaml").is_file()

    straight_last, resumed_last = last_checkpoint(tmp_path, config, 0), last_checkpoint(tmp_path, config, 1)
    assert best_score(resumed_last) == pytest.approx(max(val_acc.values()))
    assert best_score(resumed_last) == best_score(straight_last)

    expected, got = final_weights(straight_last), final_weights(resumed_last)
    assert expected.keys() == got.keys()
    assert config != "cifar_fast" or any(name.startswith("ema_net.") for name in expected)
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], rtol=0, atol=0, msg=name)
