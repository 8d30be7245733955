"""Runs written by lit_digits 0.1.0 (tests/runs/fixtures/runs_0.1.0: configs/mnist.yaml and
configs/cifar_air.yaml on tiny data, one epoch of two steps, small widths) still test, report and
resume with today's code."""

import shutil
from pathlib import Path

import pytest
import torch
from helpers.cli import CONFIGS
from helpers.tiny_data import write_cifar, write_mnist

from lit_digits import ImageClassifier

FIXTURES = Path(__file__).parent / "fixtures" / "runs_0.1.0"
RUNS = {"mnist": (write_mnist, 16), "cifar_air": (write_cifar, 20)}
"""Each fixture run's config: what writes the tiny data set it was trained on, and its batch size."""


@pytest.fixture(params=sorted(RUNS))
def old_run(request, tmp_path: Path) -> tuple[str, Path, Path]:
    """(config name, the run folder copied under ``tmp_path/runs``, its tiny data set)."""
    name = request.param
    run = tmp_path / "runs" / name / "version_0"
    shutil.copytree(FIXTURES / name / "version_0", run)
    return name, run, RUNS[name][0](tmp_path / "data")


def test_old_checkpoint_tests(old_run, tmp_path: Path, in_process) -> None:
    name, run, data = old_run
    recipe = ["--config", str(CONFIGS / f"{name}.yaml"), "--data.data_dir", str(data)]
    result = in_process.run_cli("test", *recipe, "--ckpt_path", str(run / "checkpoints" / "last.ckpt"),
                                "--trainer.enable_progress_bar", "false", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "test_acc" in result.stdout


def test_old_run_reports(old_run, tmp_path: Path, in_process) -> None:
    _, run, data = old_run
    result = in_process.run_cli("report", str(run), "--data_dir", str(data), "--out", str(tmp_path / "report"),
                                cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert {"metrics.png", "mistakes.png", "confusion.png"} <= {p.name for p in (tmp_path / "report").iterdir()}


def test_old_run_resumes(old_run, tmp_path: Path, in_process) -> None:
    name, run, data = old_run
    saved = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    result = in_process.fit(name, data, "--ckpt_path", "last", "--data.batch_size", str(RUNS[name][1]),
                            "--trainer.default_root_dir", str(run.parents[1]), "--trainer.max_epochs", "2",
                            cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    resumed = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert (saved["epoch"], resumed["epoch"]) == (0, 1)
    assert resumed["global_step"] == saved["global_step"] + 2
    assert resumed["hyper_parameters"] == saved["hyper_parameters"]
    epochs = [line.split(",")[0] for line in (run / "metrics.csv").read_text().splitlines()[1:]]
    assert set(epochs) == {"0", "1"}  # appended to the run's own metrics.csv
    assert sorted(p.name for p in run.parent.iterdir()) == ["version_0"]


def test_arguments_added_since_are_recorded_only_when_given():
    def recorded(**net_args) -> dict:
        net = {"class_path": "lit_digits.nets.AirbenchNet", "init_args": {"widths": [8, 16, 16], **net_args}}
        return ImageClassifier(net=net).hparams["net"]["init_args"]

    assert "group_activation" not in recorded(group_activation=None)  # as a checkpoint from before it holds it
    assert recorded(group_activation="silu")["group_activation"] == "silu"
