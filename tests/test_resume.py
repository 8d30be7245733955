"""Interrupted runs resume from ``last`` to the same weights as an uninterrupted run."""

from pathlib import Path

import torch
from cli_helpers import SMALL_DAVIDNET, fit

TINY_DAVIDNET = [*SMALL_DAVIDNET, "--trainer.max_epochs", "3", "--trainer.limit_train_batches", "1.0"]


def final_weights(root: Path, version: int) -> dict[str, torch.Tensor]:
    checkpoint = torch.load(root / "runs" / "cifar" / f"version_{version}" / "checkpoints" / "last.ckpt",
                            weights_only=False)  # fmt: skip
    assert checkpoint["epoch"] == 2
    return checkpoint["state_dict"]


def test_killed_run_resumes_from_last_to_the_same_final_weights(cifar_dir, tmp_path):
    straight = fit("cifar", cifar_dir, *TINY_DAVIDNET, cwd=tmp_path)
    assert straight.returncode == 0, straight.stderr

    probe = {"PYTHONPATH": str(Path(__file__).parent)}
    killed = fit("cifar", cifar_dir, *TINY_DAVIDNET, "--trainer.callbacks+=kill_probe.KillAtEpoch",
                 "--trainer.callbacks.epoch", "1", cwd=tmp_path, env=probe)  # fmt: skip
    assert killed.returncode == -9
    resumed = fit("cifar", cifar_dir, *TINY_DAVIDNET, "--ckpt_path", "last", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "Restoring states from the checkpoint path at" in resumed.stderr + resumed.stdout
    assert "version_1" in resumed.stderr + resumed.stdout

    expected, got = final_weights(tmp_path, 0), final_weights(tmp_path, 2)
    assert expected.keys() == got.keys()
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], rtol=0, atol=0, msg=name)
