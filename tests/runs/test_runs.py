"""Run folders: what fit writes, what the other commands leave alone, and what no command deletes.

The commands run in this process (``in_process``), but for two fits at once, which are two processes (``fit``)."""

import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers.cli import CONFIGS, SMALL_DAVIDNET, assert_one_line_error, fit

from lit_digits.runs.metrics_csv import read_metrics


def versions(root, config):
    return sorted(p.name for p in (root / "runs" / config).iterdir())


def test_test_validate_and_predict_write_no_run_folder(mnist_dir, tmp_path, in_process):
    assert in_process.fit("mnist", mnist_dir, cwd=tmp_path).returncode == 0
    common = ["--config", str(CONFIGS / "mnist.yaml"), "--data.data_dir", str(mnist_dir)]
    for command in ("test", "validate"):
        result = in_process.run_cli(command, *common, "--ckpt_path", "best", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    assert versions(tmp_path, "mnist") == ["version_0"]
    assert sorted(p.name for p in (tmp_path / "runs" / "mnist" / "version_0").iterdir()) == [
        "checkpoints", "config.yaml", "hparams.yaml", "metrics.csv", "writer.lock"
    ]  # fmt: skip


def test_best_and_last_take_the_models_settings_from_the_checkpoint(cifar_dir, tmp_path, in_process):
    assert in_process.fit("cifar", cifar_dir, *SMALL_DAVIDNET, cwd=tmp_path).returncode == 0  # width 8, not 64
    common = ["--config", str(CONFIGS / "cifar.yaml"), "--data.data_dir", str(cifar_dir)]
    for ckpt in ("best", "last"):
        tested = in_process.run_cli("test", *common, "--ckpt_path", ckpt, cwd=tmp_path)
        assert tested.returncode == 0, tested.stderr
        assert "test_acc" in tested.stdout


@pytest.mark.slow
def test_concurrent_fits_of_one_config_get_their_own_folders(mnist_dir, tmp_path):
    with ThreadPoolExecutor(2) as threads:  # two processes at once, each waited for by a thread of its own
        runs = list(threads.map(lambda _: fit("mnist", mnist_dir, cwd=tmp_path), range(2)))
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert versions(tmp_path, "mnist") == ["version_0", "version_1"]
    for version in ("version_0", "version_1"):
        assert (tmp_path / "runs" / "mnist" / version / "checkpoints" / "last.ckpt").is_file()


def test_pinning_an_existing_version_is_refused_and_deletes_nothing(mnist_dir, tmp_path, in_process):
    assert in_process.fit("mnist", mnist_dir, cwd=tmp_path).returncode == 0
    metrics = tmp_path / "runs" / "mnist" / "version_0" / "metrics.csv"
    before = metrics.read_bytes()
    pinned = in_process.fit("mnist", mnist_dir, "--trainer.logger", "lightning.pytorch.loggers.CSVLogger",
                            "--trainer.logger.save_dir", "runs", "--trainer.logger.name", "mnist",
                            "--trainer.logger.version", "0", cwd=tmp_path)  # fmt: skip
    assert_one_line_error(pinned, "already holds a run")
    assert metrics.read_bytes() == before


@pytest.mark.parametrize(
    ("data", "failing"),
    [
        ("mnist_dir", ["--data.batch_size", "1000"]),  # refused while the data is set up
        (
            "cifar_dir",
            ["--data", "CIFAR10DataModule", "--data.batch_size", "16"],
        ),  # refused by the model, after the config is saved
    ],
)
def test_a_fit_that_fails_before_training_leaves_no_run_folder(data, failing, request, tmp_path, in_process):
    earlier = tmp_path / "runs" / "mnist" / "version_0"
    earlier.mkdir(parents=True)
    (earlier / "notes.txt").write_text("mine")
    result = in_process.fit("mnist", request.getfixturevalue(data), *failing, cwd=tmp_path)
    assert_one_line_error(result)
    assert versions(tmp_path, "mnist") == ["version_0"]
    assert (earlier / "notes.txt").read_text() == "mine"


def resume(in_process, runs):
    """``fit --ckpt_path last`` of the newest run under ``runs`` to a second epoch, on the data beside ``runs``."""
    return in_process.fit("mnist", runs.parent / "data", "--trainer.max_epochs", "2", "--trainer.default_root_dir",
                          str(runs), "--ckpt_path", "last", cwd=runs.parent)  # fmt: skip


def copy_of(fitted_run, tmp_path):
    """A copy of the run's ``runs`` folder in ``tmp_path``, beside the run's data; the copied run folder."""
    shutil.copytree(fitted_run.parents[1], tmp_path / "runs")
    (tmp_path / "data").symlink_to(fitted_run.parents[2] / "data")
    return tmp_path / "runs" / "mnist" / "version_0"


def test_resuming_a_run_whose_metrics_csv_is_damaged_is_refused_and_changes_nothing(fitted_run, in_process, tmp_path):
    run = copy_of(fitted_run, tmp_path)
    metrics = run / "metrics.csv"
    metrics.write_bytes(metrics.read_bytes() + b"1,\xff\xfe\r\n")
    before = {path: path.read_bytes() for path in run.rglob("*") if path.is_file()}
    resumed = resume(in_process, run.parents[1])
    assert resumed.returncode == 1
    error = resumed.stderr
    assert f"{metrics} is damaged (line 4: not UTF-8 text), and resuming would append to it" in error
    assert {path: path.read_bytes() for path in run.rglob("*") if path.is_file()} == before


def test_a_resumed_run_ends_a_last_line_cut_short_before_appending(fitted_run, in_process, tmp_path):
    run = copy_of(fitted_run, tmp_path)
    metrics = run / "metrics.csv"
    metrics.write_bytes(metrics.read_bytes().removesuffix(b"\r\n"))  # a write killed before the line's end
    assert resume(in_process, run.parents[1]).returncode == 0
    series, skipped = read_metrics(metrics)
    assert skipped == [] and set(series["val_acc"]) == {0.0, 1.0}
