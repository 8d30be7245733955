"""The production configs through torch-xla on its CPU backend: one graph, no recompiles, no host waits."""

import re
from pathlib import Path

import pytest
from helpers import tiny_data
from helpers.cli import PROBES, SMALL_AIR, SMALL_DAVIDNET, SMALL_FAST, fit, whole_epochs

pytest.importorskip("torch_xla")
pytestmark = pytest.mark.slow  # every test here starts another process

XLA_CPU = {"PJRT_DEVICE": "CPU", "XLA_FLAGS": "--xla_backend_optimization_level=0"}
"""torch-xla on its CPU backend. These tests count graphs, compilations and host reads, not time: with
LLVM's optimizations off, each graph compiles in about half the time, and the counts are the same."""


@pytest.mark.parametrize(
    ("config", "data", "epochs", "extra"),
    [
        ("mnist", "mnist_dir", 3, []),
        ("cifar", "cifar_dir", 3, SMALL_DAVIDNET),
        ("cifar", "cifar_dir", 3, [*SMALL_DAVIDNET, "--trainer.precision", "bf16-true"]),
        ("cifar_fast", "cifar_dir", 3, SMALL_FAST),  # with the weight average and flip TTA
        ("cifar_air", "cifar_dir", 5, SMALL_AIR),  # Muon, alternating flip, six-view TTA, a rate 0 from epoch 3
        # colour jitter, six views for the least sure fifth, and Muon renormalizing every 8th step: a
        # second step graph, which 10 steps an epoch meet in epoch 0 (as the recipe's 32 do)
        ("cifar_hiverge", "cifar_200", 3, [*SMALL_AIR, "--trainer.max_steps", "-1"]),
    ],
)
def test_every_graph_compiles_in_the_first_epoch(config, data, epochs, extra, request, tmp_path):
    # 96 (MNIST) or 100 (CIFAR) training images: 6 full batches (cifar_200: 200 images, 10 batches of 20);
    # 40 or 20 test images end in a partial batch (cifar_200's 40: two full ones); the sanity check,
    # validation and checkpoints of every epoch.
    run = fit(
        config, request.getfixturevalue(data), *extra,
        "--trainer.accelerator", "xla_cpu", *whole_epochs(epochs),
        cwd=tmp_path, env=XLA_CPU,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    counts = [int(n) for n in re.findall(r"XLA compilations after epoch \d+: (\d+)", run.stderr + run.stdout)]
    assert counts == [counts[0]] * epochs, counts  # nothing compiled after epoch 0
    assert "new graphs" not in run.stderr


@pytest.fixture
def mnist_640(tmp_path: Path, monkeypatch) -> Path:
    """Tiny MNIST with 640 training images: 80 steps an epoch at batch 8."""
    monkeypatch.setitem(tiny_data.MNIST_SIZES, "train", 640)
    return tiny_data.write_mnist(tmp_path / "mnist640")


@pytest.fixture
def cifar_200(tmp_path: Path) -> Path:
    """Tiny CIFAR-10 with 200 training images: 10 steps an epoch at batch 20."""
    return tiny_data.write_cifar(tmp_path / "cifar200", per_batch=40)


@pytest.fixture
def cifar_1000(tmp_path: Path) -> Path:
    """Tiny CIFAR-10 with 1000 training images: 62 steps an epoch at batch 16."""
    return tiny_data.write_cifar(tmp_path / "cifar1000", per_batch=200)


@pytest.mark.parametrize(
    ("config", "data", "extra"),
    [
        ("mnist", "mnist_640", ["--data.batch_size", "8"]),
        ("cifar", "cifar_dir", [*SMALL_DAVIDNET, "--data.batch_size", "1"]),
        # batch 1 for 100 steps an epoch, so plain BatchNorm (the test above has the ghost one)
        (
            "cifar_fast",
            "cifar_dir",
            [*SMALL_FAST, "--data.batch_size", "1", "--model.net.init_args.ghost_batch_splits", "1"],
        ),
        # Newton-Schulz in the step's graph; an odd epoch (the last here) mirrors every batch
        ("cifar_air", "cifar_1000", [*SMALL_AIR, "--data.batch_size", "16", "--trainer.log_every_n_steps", "50"]),
        # colour jitter in the step's graph, Muon's renormalization every 8th step
        (
            "cifar_hiverge",
            "cifar_1000",
            [*SMALL_AIR, "--data.batch_size", "16", "--trainer.log_every_n_steps", "50", "--trainer.max_steps", "-1"],
        ),
    ],
)
def test_training_step_neither_waits_for_the_host_nor_runs_a_second_graph(config, data, extra, request, tmp_path):
    # The progress bar is on, as users run it; the configs log every 50 (MNIST) or 20 (CIFAR) steps.
    # cifar_fast blends the weight average into every step's graph.
    run = fit(
        config, request.getfixturevalue(data), *extra,
        "--trainer.accelerator", "xla_cpu", *whole_epochs(2),
        "--trainer.enable_progress_bar", "true", "--trainer.callbacks+=xla_probe.CountPerStep",
        cwd=tmp_path, env={**XLA_CPU, "PYTHONPATH": PROBES},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    (found,) = re.findall(r"XLA per step: ([\d.]+) transfers, ([\d.]+) executions over (\d+) steps", run.stdout)
    transfers, executions, steps = float(found[0]), float(found[1]), int(found[2])
    assert steps >= 50
    assert transfers <= 0.1, found  # only where the logger writes a step's loss
    assert abs(executions - 1.0) <= 1 / 20, found  # one graph a step, give or take one per logging point


def test_compile_switch_is_ignored_on_xla_with_one_line(mnist_dir, tmp_path):
    run = fit("mnist", mnist_dir, "--trainer.accelerator", "xla_cpu", "--model.compile", "true",
              cwd=tmp_path, env=XLA_CPU)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("model.compile is ignored on XLA") == 1


def test_a_graph_first_compiled_after_epoch_0_is_reported(cifar_dir, tmp_path):
    # 5 steps an epoch: Muon's renormalizing step graph, every 8th step, first comes in epoch 1
    run = fit("cifar_hiverge", cifar_dir, *SMALL_AIR, "--trainer.max_steps", "-1", *whole_epochs(2),
              "--trainer.accelerator", "xla_cpu", cwd=tmp_path, env=XLA_CPU)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "XLA compiled 1 new graphs in epoch 1" in run.stderr


def test_a_resumed_run_counts_from_the_epoch_it_resumes_at(mnist_dir, tmp_path):
    first = fit("mnist", mnist_dir, *whole_epochs(1), "--trainer.accelerator", "xla_cpu", cwd=tmp_path, env=XLA_CPU)
    assert first.returncode == 0, first.stderr
    resumed = fit("mnist", mnist_dir, *whole_epochs(3), "--trainer.accelerator", "xla_cpu", "--ckpt_path", "last",
                  cwd=tmp_path, env=XLA_CPU)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    # this process compiles its graphs in epoch 1, its first, and nothing after
    counts = re.findall(r"XLA compilations after epoch (\d+): (\d+)", resumed.stderr + resumed.stdout)
    assert [epoch for epoch, _ in counts] == ["1", "2"] and counts[0][1] == counts[1][1], counts
    assert "new graphs" not in resumed.stderr
