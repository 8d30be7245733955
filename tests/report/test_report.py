"""``lit_digits report``: PNG pictures of a run, and of a recipe's schedule before training. The
commands run in this process (``in_process``)."""

import math
import random
import shutil
from pathlib import Path

import pytest
from helpers.cli import CONFIGS, assert_one_line_error
from PIL import Image

from lit_digits.cli import report_command

PICTURES = ["metrics.png", "lr_schedule.png", "mistakes.png", "confusion.png"]


def assert_png(path: Path, min_width: int = 400, min_height: int = 200) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.width >= min_width and image.height >= min_height, (path, image.size)


TWO_EPOCHS = pytest.mark.parametrize(
    "fitted_run", [("--trainer.max_epochs", "2", "--trainer.log_every_n_steps", "1")], indirect=True, ids=["two_epochs"]
)
"""conftest's ``fitted_run`` over two epochs with every step logged: curves and learning rates to draw."""


@TWO_EPOCHS
def test_report_of_a_run_writes_every_picture(fitted_run, in_process):
    result = in_process.run_cli("report", str(fitted_run), cwd=fitted_run)
    assert result.returncode == 0, result.stderr
    for name in PICTURES:
        assert_png(fitted_run / "report" / name)
    assert [Path(line).name for line in result.stdout.split()] == PICTURES


@TWO_EPOCHS
def test_report_of_a_checkpoint_writes_test_set_pictures(fitted_run, tmp_path, in_process):
    checkpoint = fitted_run / "checkpoints" / "last.ckpt"
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
    assert_one_line_error(result, "neither a checkpoint nor a run folder")


class _RunsCode:
    """Unpickling this creates the file at ``path``: what a malicious checkpoint would do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


@TWO_EPOCHS
@pytest.mark.parametrize("kind", ["pickle payload", "truncated", "random bytes"])
def test_report_refuses_a_checkpoint_it_cannot_load_safely_in_one_line(kind, fitted_run, tmp_path, in_process):
    import torch

    marker = tmp_path / "code_ran"
    checkpoint = tmp_path / "x.ckpt"
    if kind == "pickle payload":
        torch.save({"state_dict": {}, "hyper_parameters": {"payload": _RunsCode(marker)}}, checkpoint)
    elif kind == "truncated":
        checkpoint.write_bytes((fitted_run / "checkpoints" / "last.ckpt").read_bytes()[:5000])
    else:
        checkpoint.write_bytes(bytes(range(256)) * 40)
    result = in_process.run_cli("report", str(checkpoint), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert_one_line_error(result, str(checkpoint), alone=True)
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["a bad line", "random bytes"])
def test_report_of_a_run_with_a_damaged_metrics_csv_draws_what_is_sound_and_names_what_it_skipped(
    damage, fitted_run, in_process, tmp_path
):
    run = tmp_path / "run"
    shutil.copytree(fitted_run, run)
    metrics = run / "metrics.csv"
    if damage == "a bad line":
        metrics.write_bytes(metrics.read_bytes() + b"1,\xff\xfe\r\n")
    else:
        metrics.write_bytes(bytes(random.Random(0).randrange(256) for _ in range(300)))
    result = in_process.run_cli("report", str(run), cwd=tmp_path)
    assert result.returncode == 0
    note, precision = result.stderr.strip().splitlines()
    assert precision == "precision: 32-true (the recipe's)"  # configs/mnist.yaml's, for the test-set pictures
    assert note.startswith(f"{metrics}: skipped 1 damaged line(s) or value(s) (line ") and "drawing the rest" in note
    assert (run / "report" / "metrics.png").exists() == (damage == "a bad line")
    for name in ("mistakes.png", "confusion.png"):
        assert_png(run / "report" / name)


def test_report_draws_every_groups_schedule_from_the_config(tmp_path, in_process):
    result = in_process.run_cli(
        "report", "--config", str(CONFIGS / "cifar_air.yaml"), "--out", str(tmp_path), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "lr_schedule.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    ("args", "message"),
    [((), "the following arguments are required: run"), (("runs", "--outt", "x"), "unrecognized arguments: --outt")],
)
def test_report_refuses_its_arguments_in_one_line(args, message, tmp_path, in_process):
    assert_one_line_error(in_process.run_cli("report", *args, cwd=tmp_path), message, "--help", code=2)
