"""Two torchrun "nodes" on this machine (127.0.0.1, gloo, one process each): one run, stopped and resumed together."""

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers.cli import PROBES, child_env, fit_args
from helpers.servers import free_port
from helpers.tiny_data import INDEXED_TEST as TEST
from helpers.tiny_data import INDEXED_TRAIN as TRAIN
from helpers.tiny_data import indexed_mnist

pytestmark = pytest.mark.slow  # every test here starts another process

TIMEOUT = 240
"""Seconds both nodes get: a node that waits for a lost peer would fail the test, not hang it."""


def two_nodes(
    tmp_path: Path, *args: str, node_0: tuple[str, ...] = (), node_1: tuple[str, ...] = ()
) -> list[tuple[int, str]]:
    """``lit_digits fit`` under torchrun as node 0 and node 1 of two (``node_0``, ``node_1``: arguments
    for that node only); each node's exit status and output. Processes of their own, not ``run_cli``'s: two torchrun
    agents, started together, each with its own command line and a timeout."""
    port = free_port()
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "1",
                "--master-addr", "127.0.0.1", "--master-port", str(port), "--rdzv-conf", "timeout=60"]  # fmt: skip
    across_nodes = ["--trainer.num_nodes", "2", "--trainer.strategy", "ddp", "--trainer.accelerator", "cpu"]
    fit = ["-m", "lit_digits", *fit_args("mnist", tmp_path / "data", *across_nodes, "--data.batch_size", "8",
                                         "--trainer.limit_train_batches", "1.0", *args)]  # fmt: skip
    env = child_env({"PYTHONPATH": PROBES})
    commands = [[*torchrun, "--node-rank", str(rank), *fit, *only] for rank, only in enumerate((node_0, node_1))]
    nodes = [subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for command in commands]  # fmt: skip
    try:
        outputs = [node.communicate(timeout=TIMEOUT)[0] for node in nodes]
        return [(node.returncode, output) for node, output in zip(nodes, outputs, strict=True)]
    finally:
        for node in nodes:
            node.kill()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return indexed_mnist(tmp_path / "data")


def finished(results: list[tuple[int, str]]) -> list[str]:
    """The outputs of two nodes that should both have ended well."""
    outputs = [output for _, output in results]
    for (status, output), node in zip(results, (0, 1), strict=True):
        assert status == 0, f"node {node}:\n{output}"
    return outputs


def test_two_nodes_train_one_run_on_disjoint_shards_into_the_folder_rank_0_reserved(data, tmp_path):
    outputs = finished(two_nodes(tmp_path, "--trainer.max_epochs", "1", "--trainer.callbacks+=ddp_probe.RecordSamples",
                                 "--trainer.callbacks.out_dir", str(tmp_path)))  # fmt: skip
    # The end-of-fit summary: written once, by node 0, after every process has agreed on the run folder.
    assert [output.count("Run: runs/mnist/version_0") for output in outputs] == [1, 0]
    runs = tmp_path / "runs" / "mnist"
    assert [p.name for p in runs.iterdir()] == ["version_0"]
    run = runs / "version_0"
    assert sorted(p.name for p in run.iterdir()) == [
        "checkpoints",
        "config.yaml",
        "hparams.yaml",
        "metrics.csv",
        "writer.lock",
        "written_by_rank0",  # each process, into the folder it was given (ddp_probe)
        "written_by_rank1",
    ]

    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [(run / f"written_by_rank{r}").read_text() for r in (0, 1)] == [f"{rank['pid']}\n" for rank in ranks]
    first, second = (set(rank["indices"]) for rank in ranks)
    assert len(ranks[0]["indices"]) == len(ranks[1]["indices"]) == TRAIN // 2
    assert not first & second and first | second == set(range(TRAIN))
    (logged,) = [float(row["val_acc"]) for row in csv.DictReader((run / "metrics.csv").open()) if row["val_acc"]]
    assert ranks[0]["seen"] + ranks[1]["seen"] == TEST
    assert logged == pytest.approx((ranks[0]["correct"] + ranks[1]["correct"]) / TEST)


def test_sigterm_to_both_nodes_saves_last_once_and_both_resume_to_the_end(data, tmp_path):
    two_epochs = ["--trainer.max_epochs", "2"]
    stopped = two_nodes(tmp_path, *two_epochs, "--trainer.callbacks+=signal_probe.SignalAtStep",
                        "--trainer.callbacks.step", "2", "--trainer.callbacks.signal_name", "SIGTERM",
                        "--trainer.callbacks.to_launcher", "true")  # fmt: skip
    # Each torchrun agent passes SIGTERM to its worker, which saves and exits 143; the agent itself
    # then exits 1 (torchrun's SignalException), whatever its worker's status.
    for status, output in stopped:
        assert status == 1, output
        assert output.count("lit_digits: stopped by SIGTERM (exit status 143)") == 1, output
        assert "Unable to shutdown process" not in output  # the worker ended before torchrun's SIGKILL
    # The launcher passes the signal on while the workers train on: they stop after step 2 or 3,
    # both after the same one, and rank 0 saves it once.
    outputs = "".join(output for _, output in stopped)
    (saved,) = re.findall(r"saved step (\d+) to runs/mnist/version_0/checkpoints/last.ckpt", outputs)
    assert int(saved) in (2, 3)
    last = tmp_path / "runs" / "mnist" / "version_0" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["global_step"] == int(saved)

    finished(two_nodes(tmp_path, *two_epochs, "--ckpt_path", "last"))
    assert torch.load(last, weights_only=True)["epoch"] == 1
    assert [p.name for p in (tmp_path / "runs" / "mnist").iterdir()] == ["version_0"]


def test_a_stop_signal_that_comes_while_the_stop_is_saved_is_only_noted(data, tmp_path):
    # Node 1's agent passes SIGTERM on after step 2; node 0's gets one only while last.ckpt is written.
    stopped = two_nodes(
        tmp_path, "--trainer.max_epochs", "2",
        node_0=("--trainer.callbacks+=signal_probe.SignalWhileSaving",),
        node_1=("--trainer.callbacks+=signal_probe.SignalAtStep", "--trainer.callbacks.step", "2",
                "--trainer.callbacks.signal_name", "SIGTERM", "--trainer.callbacks.to_launcher", "true"),
    )  # fmt: skip
    for status, output in stopped:
        assert status == 1, output
        assert output.count("lit_digits: stopped by SIGTERM (exit status 143)") == 1, output
        assert "Unable to shutdown process" not in output  # the worker ended before torchrun's SIGKILL
    (saved,) = re.findall(r"saved step (\d+) to runs/mnist/version_0/checkpoints/last.ckpt", stopped[0][1])
    assert int(saved) in (2, 3)


def test_when_one_node_dies_the_other_stops_in_one_line(data, tmp_path):
    (status_0, output_0), (status_1, _) = two_nodes(
        tmp_path, "--trainer.max_epochs", "3", node_1=("--trainer.callbacks+=kill_probe.KillAtEpoch",
                                                       "--trainer.callbacks.epoch", "1"),
    )  # fmt: skip
    assert status_0 != 0 and status_1 != 0
    errors = [line for line in output_0.splitlines() if "lit_digits: error:" in line]
    assert len(errors) == 1 and "lost another process of the run" in errors[0], output_0
    assert "RuntimeError" not in output_0
