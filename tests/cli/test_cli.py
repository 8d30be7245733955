"""The ``lit_digits`` command end to end: fit, test, predict, config printing, errors.

``python -m lit_digits`` itself runs where a test checks what only a new process shows (the whole
output of fit, test and predict, with what importing the packages prints; --help as a module; the
environment it starts in); the other commands run in this process (``in_process``)."""

from pathlib import Path

import pytest
import torch
from helpers.cli import CONFIGS, SMALL_DAVIDNET, SMALL_FAST, assert_one_line_error, fit, run_cli
from torchvision.io import write_png

from lit_digits.cli import LitDigitsCLI

NOISE = ("PJRT_DEVICE", "💡", "Total Flops", "dirpath has changed")
"""What Lightning and torch-xla print that a user cannot act on; no command shows it."""


def assert_quiet(*results) -> None:
    for result in results:
        shown = result.stdout + result.stderr
        assert not [noise for noise in NOISE if noise in shown], shown


@pytest.mark.slow
@pytest.mark.parametrize(
    ("config", "data", "extra"),
    [("mnist", "mnist_dir", []), ("cifar", "cifar_dir", SMALL_DAVIDNET), ("cifar_fast", "cifar_dir", SMALL_FAST)],
)
def test_fit_then_test_and_predict_from_the_checkpoint(config, data, extra, request, tmp_path):
    data_dir = request.getfixturevalue(data)
    trained = fit(config, data_dir, *extra, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    checkpoints = tmp_path / "runs" / config / "version_0" / "checkpoints"
    assert (checkpoints / "best.ckpt").is_file() and (checkpoints / "last.ckpt").is_file()
    assert "val_acc" in (tmp_path / "runs" / config / "version_0" / "metrics.csv").read_text()

    common = ["--config", str(CONFIGS / f"{config}.yaml"), "--data.data_dir", str(data_dir), *extra]
    tested = run_cli("test", *common, "--ckpt_path", "best", cwd=tmp_path)
    assert tested.returncode == 0, tested.stderr
    assert "test_acc" in tested.stdout

    images = tmp_path / "images"
    images.mkdir()
    channels, size = (1, 28) if config == "mnist" else (3, 32)
    write_png(torch.randint(0, 256, (channels, size, size), dtype=torch.uint8), str(images / "a.png"))
    write_png(torch.randint(0, 256, (4 - channels, 50, 40), dtype=torch.uint8), str(images / "other_mode.png"))
    (images / "broken.png").write_bytes(b"not a png")
    predicted = run_cli("predict", *common, "--ckpt_path", "last", "--data.predict_path", str(images), cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    lines = [line.split("\t") for line in predicted.stdout.splitlines() if "\t" in line]
    assert [Path(path).name for path, _, _ in lines] == ["a.png", "other_mode.png"]
    assert all(0 <= float(p) <= 1 for _, _, p in lines)
    assert "skipped" in predicted.stderr and "broken.png" in predicted.stderr
    # MNIST's digits are not resized whole but cropped to their ink and scaled into 20 x 20 (test_mnist_digit)
    assert ("RGB -> L" if config == "mnist" else "L -> RGB, resized 40x50 -> 32x32") in predicted.stderr
    assert all("\t" in line for line in predicted.stdout.splitlines()), "stdout holds the predictions alone"
    assert "Predicting" not in predicted.stderr  # no bar where stderr is not a terminal (test_progress: where it is)
    assert_quiet(trained, tested, predicted)


VARIANTS = {"cifar_air95.yaml": "cifar_air.yaml", "mnist_codelab_augmented.yaml": "mnist_codelab.yaml"}
"""The configs that change another recipe, given after it (a variant alone is refused: test_fit_output)."""


@pytest.mark.parametrize("config", sorted(CONFIGS.glob("*.yaml")), ids=lambda path: path.name)
def test_every_config_is_a_valid_recipe(tmp_path, config, in_process):
    base = ["--config", str(CONFIGS / VARIANTS[config.name])] if config.name in VARIANTS else []
    printed = in_process.run_cli("fit", *base, "--config", str(config), "--print_config", cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr


def test_print_config_shows_the_recipe(tmp_path, in_process):
    printed = in_process.run_cli("fit", "--config", str(CONFIGS / "cifar.yaml"), "--print_config", cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert "class_path: lit_digits.DavidNet" in printed.stdout and "peak_lr: 0.4" in printed.stdout
    assert "nesterov: true" in printed.stdout and "logit_scale: 0.125" in printed.stdout


def test_model_and_data_can_be_chosen_by_name(tmp_path, mnist_dir, in_process):
    args = ["fit", "--model", "TPUConvNet", "--data", "MNISTDataModule", "--data.data_dir", str(mnist_dir)]
    printed = in_process.run_cli(*args, "--print_config", cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert "class_path: lit_digits.TPUConvNet" in printed.stdout
    assert "class_path: lit_digits.nets.ConvNet" in printed.stdout


def test_a_tutorial_network_is_a_config_of_the_generic_recipe(tmp_path, in_process):
    printed = in_process.run_cli("fit", "--config", str(CONFIGS / "mnist_codelab.yaml"), "--print_config", cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    for line in ("class_path: lit_digits.ImageClassifier", "class_path: lit_digits.nets.ConvNet",
                 "class_path: torch.optim.Adam", "class_path: lit_digits.schedules.EpochDecay", "factor: 0.666"):  # fmt: skip
        assert line in printed.stdout


def test_every_run_gets_the_shared_checkpoints_and_logger_without_config_lines(tmp_path, mnist_dir, in_process):
    trained = in_process.fit("mnist_dense", mnist_dir, "--trainer.log_every_n_steps", "1", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    run = tmp_path / "runs" / "mnist_dense" / "version_0"
    assert (run / "checkpoints" / "best.ckpt").is_file() and (run / "checkpoints" / "last.ckpt").is_file()
    assert "lr-Adam" in (run / "metrics.csv").read_text()
    assert "callbacks" not in (CONFIGS / "mnist_dense.yaml").read_text()


@pytest.mark.slow
def test_help_works_as_a_module(tmp_path):
    helped = run_cli("--help", cwd=tmp_path)
    assert helped.returncode == 0 and "usage: lit_digits COMMAND" in helped.stdout
    assert "\n  report    pictures of a run" in helped.stdout and helped.stderr == ""


def test_help_lists_every_command_with_one_line(tmp_path, in_process):
    helped = in_process.run_cli("--help", cwd=tmp_path)
    assert helped.returncode == 0
    commands = helped.stdout.split("commands:\n")[1].split("\n\n")[0]
    listed = dict(line.split(maxsplit=1) for line in commands.splitlines())
    assert list(listed) == [*LitDigitsCLI.subcommands(), "report", "export", "serve", "demo"]
    assert listed["report"].startswith("pictures of a run (curves, mistakes, confusion matrix)")
    assert all(len(line) > 20 for line in listed.values())


def test_each_lightning_command_describes_itself_with_its_line(tmp_path, in_process):
    helped = in_process.run_cli("test", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "usage: lit_digits [options] test" in helped.stdout
    assert "a checkpoint's loss and accuracy on the test split" in helped.stdout


@pytest.mark.parametrize(("args", "given"), [([], "name a command"), (["tset"], "there is no command 'tset'")])
def test_a_missing_or_unknown_command_is_one_line_naming_them_all(tmp_path, in_process, args, given):
    refused = in_process.run_cli(*args, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == (f"lit_digits: error: {given}: fit, validate, test, predict, report, export, serve, demo "
                              "(lit_digits --help says what each does)\n")  # fmt: skip


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (["--model.lrr", "0.1"], "lrr"),
        (["--model.lr_schedule.init_args.peak_lr", "fast"], "fast"),
        (["--trainer.max_epochs", "x"], "max_epochs"),
    ],
)
def test_unknown_key_or_bad_value_is_a_clear_error(tmp_path, override, message, in_process):
    failed = in_process.run_cli("fit", "--config", str(CONFIGS / "cifar.yaml"), *override, cwd=tmp_path)
    assert_one_line_error(failed, message, code=2)


@pytest.mark.slow
def test_missing_cifar_without_network_is_one_clear_line(tmp_path):
    failed = run_cli("fit", "--config", str(CONFIGS / "cifar.yaml"), "--data.data_dir", str(tmp_path / "none"),
                     cwd=tmp_path, env={"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"})  # fmt: skip
    assert_one_line_error(failed, f"missing in data_dir {tmp_path / 'none'}")


def test_test_without_an_earlier_fit_says_so(tmp_path, mnist_dir, in_process):
    failed = in_process.run_cli("test", "--config", str(CONFIGS / "mnist.yaml"), "--data.data_dir", str(mnist_dir),
                                "--ckpt_path", "best", cwd=tmp_path)  # fmt: skip
    assert_one_line_error(failed, "no best.ckpt")


def test_tpu_without_a_tpu_says_what_to_do(tmp_path, in_process):
    failed = in_process.run_cli(
        "fit", "--config", str(CONFIGS / "mnist.yaml"), "--trainer.accelerator", "tpu", cwd=tmp_path
    )
    assert_one_line_error(failed, "no TPU")
