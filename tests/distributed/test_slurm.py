"""Under SLURM (its environment variables, as Lightning's own tests set them, and a stand-in ``scontrol``):
the time-limit warning (SIGUSR1) saves the run's last.ckpt, requeues the job, and the requeued job resumes."""

import os

import pytest
import torch
from helpers.cli import PROBES, SMALL_DAVIDNET, assert_stopped, fit, whole_epochs

pytestmark = pytest.mark.slow  # every test here starts another process

SLURM = {
    "SLURM_NTASKS": "1",
    "SLURM_NTASKS_PER_NODE": "1",
    "SLURM_NNODES": "1",
    "SLURM_JOB_ID": "4242",
    "SLURM_JOB_NAME": "lit_digits",
    "SLURM_PROCID": "0",
    "SLURM_LOCALID": "0",
    "SLURM_NODEID": "0",
    "SLURM_NODELIST": "localhost",
}

SCONTROL = '#!/bin/sh\necho "$@" >> "$(dirname "$0")/scontrol.calls"\n'
"""Records its arguments beside itself, as ``scontrol requeue`` would have been called."""


def test_sigusr1_saves_last_requeues_the_job_and_the_requeued_job_resumes_the_run(cifar_dir, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "scontrol").write_text(SCONTROL)
    (bin_dir / "scontrol").chmod(0o755)
    env = {**SLURM, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": PROBES}
    small = [*SMALL_DAVIDNET, *whole_epochs(2), "--ckpt_path", "last"]

    warned = fit("cifar", cifar_dir, *small, "--trainer.callbacks+=signal_probe.SignalAtStep",
                 "--trainer.callbacks.step", "3", "--trainer.callbacks.signal_name", "SIGUSR1", cwd=tmp_path, env=env)  # fmt: skip
    assert_stopped(warned, "SIGTERM", 143)
    assert "requeued SLURM job 4242" in warned.stderr
    assert (bin_dir / "scontrol.calls").read_text() == "requeue 4242\n"
    run = tmp_path / "runs" / "cifar" / "version_0"
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 3
    assert not list(tmp_path.rglob("hpc_ckpt_*"))  # Lightning's requeue checkpoint, outside the run folder

    requeued = fit("cifar", cifar_dir, *small, cwd=tmp_path, env=env)  # the job script again, as SLURM reruns it
    assert requeued.returncode == 0, requeued.stderr
    assert "Restoring states from the checkpoint path at runs/cifar/version_0/checkpoints/last.ckpt" in (
        requeued.stderr + requeued.stdout
    )
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == 1
    assert [p.name for p in (tmp_path / "runs" / "cifar").iterdir()] == ["version_0"]
    assert (bin_dir / "scontrol.calls").read_text() == "requeue 4242\n"  # once
