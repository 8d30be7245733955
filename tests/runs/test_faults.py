"""Faults injected into runs: a checkpoint write that fails, a full or read-only disk, SIGTERM, Ctrl-C."""

import contextlib
import errno
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from helpers.cli import PROBES, SMALL_DAVIDNET, assert_one_line_error, assert_stopped, fit, whole_epochs
from lightning.pytorch.plugins.io import TorchCheckpointIO

from lit_digits import LitDigitsError
from lit_digits.runs.checkpoint_files import AtomicCheckpointIO, AtomicWrites


class FailingMidWrite(TorchCheckpointIO):
    """Writes half of the file, then fails as a full disk does."""

    def save_checkpoint(self, checkpoint, path, storage_options=None) -> None:
        Path(path).write_bytes(b"PK\x03\x04 half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")


class AtomicFailingMidWrite(AtomicWrites, FailingMidWrite):
    pass


def test_failed_checkpoint_write_keeps_the_previous_file_and_says_why(tmp_path):
    path = tmp_path / "last.ckpt"
    AtomicCheckpointIO().save_checkpoint({"epoch": 1}, path)
    with pytest.raises(LitDigitsError, match=r"could not write checkpoint .*last.ckpt \(No space left on device\)"):
        AtomicFailingMidWrite().save_checkpoint({"epoch": 2}, path)
    assert torch.load(path, weights_only=True) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]  # no partial file left behind


@contextlib.contextmanager
def tmpfs(folder: Path, options: str):
    """``folder`` as a fresh tmpfs mounted with ``options`` (needs root, as CI and this project's machines have)."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True,
                             check=False)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.slow
@pytest.mark.parametrize(("disk", "reason"), [("full", "No space left on device"), ("ro", "Read-only file system")])
def test_a_fit_that_cannot_write_its_run_says_why_in_one_line(disk, reason, mnist_dir, tmp_path):
    with tmpfs(tmp_path / "disk", "size=1m" + (",ro" if disk == "ro" else "")) as folder:
        if disk == "full":
            with contextlib.suppress(OSError), (folder / "filler").open("wb") as file:
                file.write(b"\0" * 2**21)
        result = fit("mnist", mnist_dir, "--trainer.default_root_dir", str(folder), cwd=tmp_path)
    line = assert_one_line_error(result)
    assert f"error: {reason}: " in line and "--trainer.default_root_dir" in line


@pytest.mark.slow
def test_full_disk_while_saving_keeps_the_last_good_checkpoint(mnist_dir, tmp_path):
    with tmpfs(tmp_path / "disk", "size=8m") as small_disk:
        first = fit("mnist_dense", mnist_dir, "--trainer.default_root_dir", str(small_disk), cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        last = small_disk / "mnist_dense" / "version_0" / "checkpoints" / "last.ckpt"
        filler = small_disk / "filler"
        with filler.open("wb") as file:  # fill the disk to its last few kilobytes
            free = shutil.disk_usage(small_disk).free
            file.write(b"\0" * max(free - 16_384, 0))

        resumed = fit("mnist_dense", mnist_dir, "--trainer.default_root_dir", str(small_disk), "--ckpt_path", "last",
                      "--trainer.max_epochs", "2", cwd=tmp_path)  # fmt: skip
        line = assert_one_line_error(resumed)
        assert "could not write checkpoint" in line and "No space left on device" in line
        assert torch.load(last, weights_only=True)["epoch"] == 0  # still the first run's, whole


@pytest.mark.slow
@pytest.mark.parametrize(("signal_name", "cause", "status"), [("SIGTERM", "SIGTERM", 143), ("SIGINT", "Ctrl-C", 130)])
def test_sigterm_or_ctrl_c_saves_a_resumable_checkpoint_and_exits_non_zero(
    signal_name, cause, status, cifar_dir, tmp_path
):
    small = [*SMALL_DAVIDNET, *whole_epochs(2)]
    probe = {"PYTHONPATH": PROBES}
    stopped = fit("cifar", cifar_dir, *small, "--trainer.callbacks+=signal_probe.SignalAtStep",
                  "--trainer.callbacks.step", "4", "--trainer.callbacks.signal_name", signal_name,
                  cwd=tmp_path, env=probe)  # fmt: skip
    assert_stopped(stopped, cause, status)
    last = tmp_path / "runs" / "cifar" / "version_0" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["global_step"] == 4

    resumed = fit("cifar", cifar_dir, *small, "--ckpt_path", "last", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert torch.load(last, weights_only=True)["epoch"] == 1  # the run completed its two epochs, in its folder
    assert not (tmp_path / "runs" / "cifar" / "version_1").exists()
