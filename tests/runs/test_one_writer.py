"""One writer per run: a second fit of a held run is refused, a dead holder's hold is taken over,
reading commands need none, and of a run's processes on all its nodes only global rank 0 holds it."""

import logging
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.cli import CONFIGS, assert_one_line_error, built_cli, fit_args, run_cli
from lightning.pytorch.utilities import rank_zero_only

from lit_digits import LitDigitsError
from lit_digits.runs.hold import LOCK_FILE, RunHold

HOLDER = f"process {os.getpid()} on {socket.gethostname()}"
"""How a hold of this test process names it."""


def recipe(run: Path, *extra: str) -> list[str]:
    """``configs/mnist.yaml`` on the run's data, its runs under the run's ``runs`` folder."""
    work = run.parents[2]
    return ["--config", str(CONFIGS / "mnist.yaml"), "--data.data_dir", str(work / "data"),
            "--trainer.default_root_dir", str(work / "runs"), *extra]  # fmt: skip


def short_fit(run: Path, *extra: str) -> list[str]:
    """A short fit's arguments (``fit_args``) on the run's data, its runs under the run's ``runs`` folder."""
    return fit_args("mnist", run.parents[2] / "data", "--trainer.default_root_dir", str(run.parents[1]), *extra)


def files(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_a_fit_ends_by_releasing_its_run_so_the_next_hold_takes_it_without_a_note(fitted_run, caplog):
    assert (fitted_run / LOCK_FILE).read_bytes() == b""
    with caplog.at_level(logging.WARNING, logger="lit_digits"):
        RunHold(fitted_run).release()
    assert not caplog.records


@pytest.mark.slow
def test_resuming_a_run_that_another_process_holds_is_refused_in_one_line_and_writes_nothing(fitted_run):
    hold = RunHold(fitted_run)
    before = files(fitted_run)
    try:
        resumed = run_cli(*short_fit(fitted_run, "--ckpt_path", "last", "--trainer.max_epochs", "2"),
                          cwd=fitted_run.parents[2])  # fmt: skip
        after = files(fitted_run)
    finally:
        hold.release()
    assert_one_line_error(resumed, f"{fitted_run} is being written by another fit ({HOLDER}, since ")
    assert after == before


def test_a_fit_pinned_to_a_held_run_is_refused(fitted_run, in_process):
    pinned = ["--trainer.logger", "lit_digits.runs.RunLogger", "--trainer.logger.save_dir",
              str(fitted_run.parents[1]), "--trainer.logger.name", "mnist", "--trainer.logger.version", "0"]  # fmt: skip
    hold = RunHold(fitted_run)
    before = files(fitted_run)
    try:
        result = in_process.run_cli(*short_fit(fitted_run, *pinned), cwd=fitted_run.parents[2])
        after = files(fitted_run)
    finally:
        hold.release()
    assert result.returncode == 1
    assert f"{fitted_run} is being written by another fit ({HOLDER}" in result.stderr
    assert after == before


HOLDS_AND_DIES = """
import os, signal, sys
from pathlib import Path
from lit_digits.runs.hold import RunHold
RunHold(Path(sys.argv[1]))
print(os.getpid(), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""
"""A process that holds the folder it is given, then is killed, as a fit killed by a scheduler is."""


@pytest.mark.slow
def test_a_hold_whose_holder_was_killed_is_taken_over_saying_whose_it_was(tmp_path, caplog):
    killed = subprocess.run([sys.executable, "-c", HOLDS_AND_DIES, str(tmp_path)], capture_output=True, text=True,
                            check=False)  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with caplog.at_level(logging.WARNING, logger="lit_digits"):
        hold = RunHold(tmp_path)
    assert f"was held by process {killed.stdout.strip()} on {socket.gethostname()}" in caplog.text
    assert "ended without releasing it; this fit takes it over" in caplog.text
    with pytest.raises(LitDigitsError, match="being written by another fit"):
        RunHold(tmp_path)
    hold.release()


def test_test_and_report_read_a_run_that_a_fit_holds(fitted_run, in_process, tmp_path):
    hold = RunHold(fitted_run)
    try:
        assert in_process.run_cli("test", *recipe(fitted_run, "--ckpt_path", "last"), cwd=tmp_path).returncode == 0
        assert in_process.run_cli("report", str(fitted_run), "--out", str(tmp_path), cwd=tmp_path).returncode == 0
    finally:
        hold.release()


@pytest.mark.parametrize("node_rank", [0, 1])
def test_of_a_multi_node_run_only_global_rank_0_holds_its_folder(node_rank, tmp_path, monkeypatch):
    monkeypatch.setenv("NODE_RANK", str(node_rank))
    monkeypatch.setattr(rank_zero_only, "rank", rank_zero_only.rank)  # Lightning sets it to this process's rank
    nodes = ["--trainer.accelerator", "cpu", "--trainer.strategy", "ddp", "--trainer.num_nodes", "2",
             "--trainer.devices", "1", "--trainer.default_root_dir", str(tmp_path)]  # fmt: skip
    cli = built_cli("--config", str(CONFIGS / "mnist.yaml"), *nodes)  # the trainer's logger: no command shows it
    lock = tmp_path / "mnist" / "version_0" / LOCK_FILE
    if node_rank == 0:
        assert lock.read_text().startswith(f"{HOLDER}, since ")
        cli.trainer.logger.finalize("success")
    else:
        assert not (tmp_path / "mnist").exists()
