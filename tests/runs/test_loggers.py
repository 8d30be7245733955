"""``--trainer.logger`` TensorBoard, MLflow, CSV: each writes beside the run folder's metrics.csv and checkpoints."""

import csv

import pytest
from helpers.cli import CONFIGS, assert_one_line_error, fit, run_cli
from mlflow.tracking import MlflowClient
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

pytestmark = pytest.mark.slow  # every test here starts another process

EVERY_STEP = ["--trainer.log_every_n_steps", "1"]


def fit_and_resume(mnist_dir, tmp_path, *loggers: str) -> None:
    """One epoch, then ``--ckpt_path last`` to a second one, with the same loggers."""
    first = fit("mnist", mnist_dir, *loggers, *EVERY_STEP, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    resumed = fit("mnist", mnist_dir, *loggers, *EVERY_STEP, "--ckpt_path", "last", "--trainer.max_epochs", "2",
                  cwd=tmp_path)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr


def epochs_in_metrics_csv(run) -> list[str]:
    return [row["epoch"] for row in csv.DictReader((run / "metrics.csv").open()) if row["val_acc"]]


def test_tensorboard_writes_into_the_run_folder_and_a_resumed_fit_continues_there(mnist_dir, tmp_path):
    fit_and_resume(mnist_dir, tmp_path, "--trainer.logger", "TensorBoardLogger")
    runs = tmp_path / "runs" / "mnist"
    assert [p.name for p in runs.iterdir()] == ["version_0"]
    run = runs / "version_0"
    assert len(list(run.glob("events.out.tfevents.*"))) == 2  # one per process, in the same folder
    events = EventAccumulator(str(run))
    events.Reload()
    assert [event.step for event in events.Scalars("val_acc")] == [1, 3]  # per epoch, 2 steps each
    assert [event.step for event in events.Scalars("train_loss_step")] == [1, 2, 3, 4]
    assert epochs_in_metrics_csv(run) == ["0", "1"]

    common = ["--config", str(CONFIGS / "mnist.yaml"), "--data.data_dir", str(mnist_dir)]
    tested = run_cli("test", *common, "--ckpt_path", "best", cwd=tmp_path)
    assert tested.returncode == 0 and "test_acc" in tested.stdout, tested.stderr
    reported = run_cli("report", str(run), "--data_dir", str(mnist_dir), cwd=tmp_path)
    assert reported.returncode == 0, reported.stderr
    assert (run / "report" / "metrics.png").is_file()


def test_mlflow_run_lives_in_a_local_store_and_a_resumed_fit_continues_the_same_run(mnist_dir, tmp_path, monkeypatch):
    fit_and_resume(mnist_dir, tmp_path, "--trainer.logger+=MLFlowLogger", "--trainer.logger+=TensorBoardLogger")
    run = tmp_path / "runs" / "mnist" / "version_0"
    assert sorted(p.name for p in (tmp_path / "runs" / "mnist").iterdir()) == ["version_0"]
    assert epochs_in_metrics_csv(run) == ["0", "1"]
    assert (run / "checkpoints" / "last.ckpt").is_file()

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3's file store asks for it, as lit_digits does
    client = MlflowClient(f"file:{tmp_path / 'runs' / 'mlruns'}")
    (mlflow_run,) = client.search_runs([client.get_experiment_by_name("mnist").experiment_id])
    assert (run / "mlflow_run_id.txt").read_text().strip() == mlflow_run.info.run_id
    assert mlflow_run.data.tags["lit_digits.run_dir"] == str(run.resolve())
    assert mlflow_run.info.status == "FINISHED"
    assert [m.step for m in client.get_metric_history(mlflow_run.info.run_id, "val_acc")] == [1, 3]
    assert len(client.get_metric_history(mlflow_run.info.run_id, "train_loss_step")) == 4


def test_csv_logger_by_its_short_name_is_the_run_folders_own(mnist_dir, tmp_path):
    result = fit("mnist", mnist_dir, "--trainer.logger", "CSVLogger", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["mnist"]
    assert [p.name for p in (tmp_path / "runs" / "mnist").iterdir()] == ["version_0"]
    assert epochs_in_metrics_csv(tmp_path / "runs" / "mnist" / "version_0") == ["0"]


STUB = 'raise ModuleNotFoundError("No module named {0!r}", name={0!r})\n'


@pytest.mark.parametrize(
    ("logger", "broken", "reason"),
    [
        ("MLFlowLogger", "mlflow", "mlflow"),
        ("TensorBoardLogger", "tensorboard", "No module named 'tensorboard'"),
        ("MLFlowLogger", "file:/proc/mlruns", "No such file or directory: '/proc/mlruns'"),
    ],
)
def test_a_logger_that_cannot_start_is_one_line_and_leaves_no_run(logger, broken, reason, mnist_dir, tmp_path):
    args, env = ["--trainer.logger", logger], None
    if broken.startswith("file:"):
        args += ["--trainer.logger.tracking_uri", broken]
    else:  # the package as if it were not installed
        (tmp_path / "stubs" / broken).mkdir(parents=True)
        (tmp_path / "stubs" / broken / "__init__.py").write_text(STUB.format(broken))
        env = {"PYTHONPATH": str(tmp_path / "stubs")}
    result = fit("mnist", mnist_dir, *args, cwd=tmp_path, env=env)
    assert_one_line_error(result, f"--trainer.logger {logger} could not start: ", reason,
                          "pip install 'lit_digits[loggers]'")  # fmt: skip
    assert not list(tmp_path.glob("runs/*/version_*"))
