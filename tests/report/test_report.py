"""``lit_digits report``: PNG pictures of a run, and of a recipe's schedule before training. The
commands run in this process (``in_process``)."""

import math
import random
import shutil
from pathlib import Path

import pytest
from helpers.cli import CONFIGS, as_a_process, fit_args
from helpers.tiny_data import write_mnist
from PIL import Image

from lit_digits.cli import report_command
from lit_digits.runs.metrics_csv import read_metrics

PICTURES = ["metrics.png", "lr_schedule.png", "mistakes.png", "confusion.png"]


def assert_png(path: Path, min_width: int = 400, min_height: int = 200) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.width >= min_width and image.height >= min_height, (path, image.size)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A 2-epoch run of configs/mnist.yaml on tiny data, fit in this process."""
    from lit_digits.cli import main

    data = write_mnist(tmp_path_factory.mktemp("mnist"))
    work = tmp_path_factory.mktemp("work")
    with as_a_process(work, None):  # main returns for exit status 0; any other is a SystemExit, failing the set-up
        main(fit_args("mnist", data, "--trainer.max_epochs", "2", "--trainer.log_every_n_steps", "1"))
    return work / "runs" / "mnist" / "version_0"


def test_report_of_a_run_writes_every_picture(finished_run, in_process):
    result = in_process.run_cli("report", str(finished_run), cwd=finished_run)
    assert result.returncode == 0, result.stderr
    for name in PICTURES:
        assert_png(finished_run / "report" / name)
    assert [Path(line).name for line in result.stdout.split()] == PICTURES


def test_report_of_a_checkpoint_writes_test_set_pictures(finished_run, tmp_path, in_process):
    checkpoint = finished_run / "checkpoints" / "last.ckpt"
    result = in_process.run_cli("report", str(checkpoint), "--out", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_png(tmp_path / "mistakes.png")
    assert_png(tmp_path / "confusion.png")


def test_learning_rate_schedule_is_drawn_from_the_config_before_training(tmp_path, in_process):
    result = in_process.run_cli("report", "--config", str(CONFIGS / "cifar.yaml"), "--trainer.max_epochs", "30",
                     "--out", str(tmp_path), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert_png(tmp_path / "lr_schedule.png")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("accumulate", [1, 2])
def test_a_recipes_schedule_counts_the_steps_a_fit_takes_under_gradient_accumulation(tmp_path, monkeypatch,
                                                                                     accumulate):  # fmt: skip
    drawn = {}
    monkeypatch.setattr(report_command, "planned_learning_rates", lambda model, steps, epochs, *_: drawn.update(
        steps=steps, epochs=epochs))  # fmt: skip
    monkeypatch.chdir(tmp_path)
    report_command.recipe_schedule(["--config", str(CONFIGS / "mnist.yaml"), "--trainer.accumulate_grad_batches",
                                    str(accumulate)], tmp_path)  # fmt: skip
    batches = 60_000 // 256  # MNIST's training split, configs/mnist.yaml's batch size
    assert drawn["steps"] == math.ceil(batches / accumulate)
    assert not (tmp_path / "runs").exists()


def test_a_recipe_named_in_steps_draws_its_schedule_over_those_steps(tmp_path, monkeypatch):
    drawn = {}
    monkeypatch.setattr(report_command, "planned_learning_rates", lambda model, steps, epochs, *_: drawn.update(
        steps=steps, epochs=epochs))  # fmt: skip
    monkeypatch.chdir(tmp_path)
    report_command.recipe_schedule(["--config", str(CONFIGS / "mnist.yaml"), "--trainer.max_epochs", "null",
                                    "--trainer.max_steps", "1000"], tmp_path)  # fmt: skip
    assert drawn == {"steps": 234, "epochs": 1000 / 234}  # 234 steps an epoch: 4.27 epochs


def test_report_of_something_else_is_a_clear_error(tmp_path, in_process):
    result = in_process.run_cli("report", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert "neither a checkpoint nor a run folder" in result.stderr and "Traceback" not in result.stderr


class _RunsCode:
    """Unpickling this creates the file at ``path``: what a malicious checkpoint would do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


@pytest.mark.parametrize("kind", ["pickle payload", "truncated", "random bytes"])
def test_report_refuses_a_checkpoint_it_cannot_load_safely_in_one_line(kind, finished_run, tmp_path, in_process):
    import torch

    marker = tmp_path / "code_ran"
    checkpoint = tmp_path / "x.ckpt"
    if kind == "pickle payload":
        torch.save({"state_dict": {}, "hyper_parameters": {"payload": _RunsCode(marker)}}, checkpoint)
    elif kind == "truncated":
        checkpoint.write_bytes((finished_run / "checkpoints" / "last.ckpt").read_bytes()[:5000])
    else:
        checkpoint.write_bytes(bytes(range(256)) * 40)
    result = in_process.run_cli("report", str(checkpoint), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert str(checkpoint) in result.stderr
    assert not marker.exists()


def test_rows_a_resumed_run_wrote_again_supersede_the_killed_runs(tmp_path):
    metrics = tmp_path / "metrics.csv"
    metrics.write_text(
        "epoch,step,lr-SGD,train_loss,val_acc\n"
        "0,4,0.1,,\n0,4,,1.5,0.4\n"  # epoch 0, checkpointed
        "1,8,0.2,,\n1,8,,0.9,0.6\n"  # epoch 1, flushed by the killed run but not checkpointed
        "1,8,0.2,,\n1,8,,0.8,0.7\n"  # epoch 1 again, by the resumed run
        "2,12,0.1,,\n2,12,,0.5,0.9\n"
    )
    series, skipped = read_metrics(metrics)
    assert skipped == []
    assert series["val_acc"] == {0.0: 0.4, 1.0: 0.7, 2.0: 0.9}
    assert series["train_loss"] == {0.0: 1.5, 1.0: 0.8, 2.0: 0.5}
    assert series["lr-SGD"] == {4.0: 0.1, 8.0: 0.2, 12.0: 0.1}


def test_damaged_lines_of_metrics_csv_are_skipped_each_with_a_note(tmp_path):
    metrics = tmp_path / "metrics.csv"
    metrics.write_bytes(
        b"epoch,step,train_loss,val_acc\r\n0,4,1.5,0.4\r\n"
        b"1,8,\xff\xfe,0.6\r\n"  # bytes that are no text
        b"2,12,0.9\r\n3,16,0.8,0.7,9\r\n"  # a field missing, one too many
        b"4,20,abc,0.8\r\nx,24,0.5,0.9\r\n"  # not a number: a value, the epoch
        b"5,28,0.4,0.9\r\n6,3"  # cut mid-row
    )
    series, skipped = read_metrics(metrics)
    assert series == {"train_loss": {0.0: 1.5, 5.0: 0.4}, "val_acc": {0.0: 0.4, 4.0: 0.8, 5.0: 0.9}}
    assert skipped == ["line 3: not UTF-8 text", "line 4: 3 fields, the header has 4",
                       "line 5: 5 fields, the header has 4", "line 6: train_loss 'abc' is not a number",
                       "line 7: epoch 'x' or step '24' is not a number", "line 9: 2 fields, the header has 4"]  # fmt: skip


@pytest.mark.parametrize("damage", ["a bad line", "random bytes"])
def test_report_of_a_run_with_a_damaged_metrics_csv_draws_what_is_sound_and_names_what_it_skipped(
    damage, fitted_run, lit_digits_main, capsys, tmp_path
):
    run = tmp_path / "run"
    shutil.copytree(fitted_run, run)
    metrics = run / "metrics.csv"
    if damage == "a bad line":
        metrics.write_bytes(metrics.read_bytes() + b"1,\xff\xfe\r\n")
    else:
        metrics.write_bytes(bytes(random.Random(0).randrange(256) for _ in range(300)))
    assert lit_digits_main("report", str(run)) == 0
    note, precision = capsys.readouterr().err.strip().splitlines()
    assert precision == "precision: 32-true (the recipe's)"  # configs/mnist.yaml's, for the test-set pictures
    assert note.startswith(f"{metrics}: skipped 1 damaged line(s) or value(s) (line ") and "drawing the rest" in note
    assert (run / "report" / "metrics.png").exists() == (damage == "a bad line")
    for name in ("mistakes.png", "confusion.png"):
        assert_png(run / "report" / name)
