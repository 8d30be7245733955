"""Each bad input a user can give: one clear line, a non-zero exit, nothing of theirs harmed."""

from pathlib import Path

import numpy as np
import pytest
from cli_helpers import CONFIGS, fit, run_cli
from conftest import write_mnist
from PIL import Image

MNIST = str(CONFIGS / "mnist.yaml")
CIFAR = str(CONFIGS / "cifar.yaml")


def assert_clear_error(result, *fragments: str, code: int = 1) -> None:
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny MNIST copy and a working directory holding one finished run of configs/mnist.yaml."""
    data = write_mnist(tmp_path_factory.mktemp("mnist"))
    work = tmp_path_factory.mktemp("work")
    assert fit("mnist", data, cwd=work).returncode == 0
    return data, work


@pytest.mark.parametrize(
    ("yaml", "fragment"),
    [("model:\n  init_args:\n    lrr: 0.1\n", "lrr"), ("trainer:\n  max_epochs: ten\n", "max_epochs")],
)
def test_yaml_with_typo_or_wrong_type_is_refused(tmp_path, yaml, fragment):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml)
    assert_clear_error(run_cli("fit", "--config", MNIST, "--config", str(bad), cwd=tmp_path), fragment, code=2)


def test_settings_lightning_refuses_give_its_message_in_one_line(mnist_run, tmp_path):
    data, _ = mnist_run
    result = fit("mnist", data, "--trainer.logger", "false", cwd=tmp_path)
    assert_clear_error(
        result, "Cannot use `LearningRateMonitor` callback with `Trainer` that has no logger", "--print_config"
    )


def test_colour_model_on_mnist_is_refused_before_training(mnist_run, tmp_path):
    data, _ = mnist_run
    result = run_cli("fit", "--config", MNIST, "--model", "DavidNet", "--data.data_dir", str(data), cwd=tmp_path)
    assert_clear_error(result, "DavidNet takes 3-channel images but MNISTDataModule gives 1-channel 28x28")
    assert not (tmp_path / "runs" / "mnist" / "version_0" / "metrics.csv").exists()


def test_checkpoint_of_another_recipe_is_refused(mnist_run, cifar_dir):
    _, work = mnist_run
    checkpoint = work / "runs" / "mnist" / "version_0" / "checkpoints" / "best.ckpt"
    before = checkpoint.read_bytes()
    result = run_cli("test", "--config", CIFAR, "--data.data_dir", str(cifar_dir), "--ckpt_path", str(checkpoint),
                     cwd=work)  # fmt: skip
    assert_clear_error(result, "TPUConvNet takes 1-channel images but CIFAR10DataModule gives 3-channel")
    assert checkpoint.read_bytes() == before


def test_truncated_data_file_is_reported_and_kept(mnist_dir, tmp_path):
    path = mnist_dir / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-5])
    before = path.read_bytes()
    result = fit("mnist", mnist_dir, cwd=tmp_path)
    assert_clear_error(result, "t10k-labels-idx1-ubyte is truncated or corrupt")
    assert path.read_bytes() == before


def test_data_dir_that_cannot_be_created_is_refused(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("mine")
    result = run_cli("fit", "--config", MNIST, "--data.data_dir", str(blocker / "data"), cwd=tmp_path)
    assert_clear_error(result, f"cannot create data_dir {blocker / 'data'}", "writable --data.data_dir")
    assert blocker.read_text() == "mine"


@pytest.mark.parametrize("content", ["empty folder", "only a text file"])
def test_predict_without_any_readable_image_is_refused(mnist_run, tmp_path, content):
    _, work = mnist_run
    folder = tmp_path / "images"
    folder.mkdir()
    if content == "only a text file":
        (folder / "notes.txt.png").write_text("hello")
    result = run_cli("predict", "--config", MNIST, "--ckpt_path", "best", "--data.predict_path", str(folder), cwd=work)
    assert_clear_error(result, "no readable image")


def test_predict_converts_16_bit_and_rgba_images(mnist_run, tmp_path):
    _, work = mnist_run
    Image.fromarray(np.full((28, 28), 40000, dtype=np.uint16)).save(tmp_path / "deep.png")
    Image.fromarray(np.zeros((28, 28, 4), dtype=np.uint8), "RGBA").save(tmp_path / "alpha.png")
    result = run_cli("predict", "--config", MNIST, "--ckpt_path", "best", "--data.predict_path", str(tmp_path),
                     cwd=work)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(Path(line.split("\t")[0]).name for line in result.stdout.splitlines() if "\t" in line) == [
        "alpha.png",
        "deep.png",
    ]
    assert "uint16 -> uint8" in result.stderr and "alpha channel dropped" in result.stderr


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("--data.batch_size", "0", "batch_size must be at least 1"),
        ("--data.padding_mode", "mirror", "padding_mode must be"),
        ("--model.lr_schedule.init_args.decay_steps", "0", "decay_steps must be > 0"),
        ("--model.lr_schedule.init_args.lr", "-0.1", "lr must be a learning rate >= 0"),
        ("--model.net.init_args.dropout", "1.5", "dropout must be in [0, 1)"),
        ("--model.label_smoothing", "2", "label_smoothing must be in [0, 1]"),
        ("--model.compile_mode", "fastest", "compile_mode must be one of"),
    ],
)
def test_a_value_a_class_refuses_while_the_config_is_built_is_one_line(setting, value, message, tmp_path):
    result = run_cli("fit", "--config", str(CONFIGS / "mnist.yaml"), setting, value, cwd=tmp_path)
    assert_clear_error(result, f"lit_digits: error: {message}")
    assert len([line for line in result.stderr.splitlines() if line.startswith("lit_digits: error")]) == 1
