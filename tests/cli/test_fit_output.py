"""What a fit shows: a model summary without empty columns, and at the end the run, its accuracy
and the next commands; a variant config given without its base is one line."""

from pathlib import Path

import pytest
from helpers.cli import CONFIGS, QUICK

TINY_MNIST = ["--data.batch_size", "16", "--model.init_args.net.init_args.channels", "[2, 4, 4]",
              "--model.init_args.net.init_args.dense", "[8]", *QUICK]  # fmt: skip


def fit_mnist(lit_digits_main, data: Path, root: Path, *extra: str) -> int:
    return lit_digits_main("fit", "--config", str(CONFIGS / "mnist.yaml"), "--data.data_dir", str(data),
                           "--trainer.default_root_dir", str(root), *TINY_MNIST, *extra)  # fmt: skip


def test_a_fit_ends_with_its_run_its_accuracy_and_the_next_commands(mnist_dir, tmp_path, lit_digits_main, capsys):
    assert fit_mnist(lit_digits_main, mnist_dir, tmp_path / "runs") == 0
    shown = capsys.readouterr().err
    run = tmp_path / "runs" / "mnist" / "version_0"
    assert f"Run: {run}\n" in shown
    assert "val_acc: best " in shown and "%, final " in shown
    test = f"lit_digits test --config {CONFIGS / 'mnist.yaml'} --data.data_dir {mnist_dir}"
    assert f"  {test} --trainer.default_root_dir {tmp_path / 'runs'} --ckpt_path best\n" in shown
    assert (
        f"  lit_digits report {run} --data_dir {mnist_dir}\n  lit_digits demo {run} --data_dir {mnist_dir}\n" in shown
    )
    assert "FLOPs" not in shown and "Total Flops" not in shown  # Lightning counts none for these models
    assert "Params" in shown and "trainable" in shown
    assert "weights_only" not in shown and "stepping batches" not in shown


def test_the_next_commands_work(mnist_dir, tmp_path, lit_digits_main, capsys):
    assert fit_mnist(lit_digits_main, mnist_dir, tmp_path / "runs") == 0
    test_command, report_command, _ = [line.split()[1:] for line in capsys.readouterr().err.splitlines()[-3:]]
    assert lit_digits_main(*test_command, "--trainer.enable_progress_bar", "false") == 0
    assert "test_acc" in capsys.readouterr().out
    assert lit_digits_main(*report_command) == 0
    assert (tmp_path / "runs" / "mnist" / "version_0" / "report" / "confusion.png").is_file()


def test_a_fit_without_validation_says_so_and_points_at_last(mnist_dir, tmp_path, lit_digits_main, capsys):
    assert fit_mnist(lit_digits_main, mnist_dir, tmp_path / "runs", "--trainer.limit_val_batches", "0") == 0
    shown = capsys.readouterr().err
    assert "val_acc: no validation ran" in shown
    assert "--ckpt_path last\n" in shown


def test_no_model_summary_when_turned_off(mnist_dir, tmp_path, lit_digits_main, capsys):
    assert fit_mnist(lit_digits_main, mnist_dir, tmp_path / "runs", "--trainer.enable_model_summary", "false") == 0
    assert "Params" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("base", "variant"), [("mnist_codelab", "mnist_codelab_augmented"), ("cifar_air", "cifar_air95")]
)
def test_a_variant_alone_is_one_line_naming_what_to_pass(base, variant, lit_digits_main, capsys):
    assert lit_digits_main("fit", "--config", str(CONFIGS / f"{variant}.yaml")) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert "changes a recipe but names none" in line and f"--config BASE.yaml --config {CONFIGS}" in line
    assert f"configs/{base}.yaml --config configs/{variant}.yaml" in (CONFIGS / f"{variant}.yaml").read_text()


def test_a_variant_after_its_base_is_the_base_with_its_changes(lit_digits_main, capsys):
    base, variant = CONFIGS / "mnist_codelab.yaml", CONFIGS / "mnist_codelab_augmented.yaml"
    assert lit_digits_main("fit", "--config", str(base), "--config", str(variant), "--print_config") == 0
    merged = capsys.readouterr().out
    for changed in (
        "max_epochs: 20",
        "factor: 0.8",
        "label_smoothing: 0.1",
        "crop_padding: 2",
        "padding_mode: constant",
    ):
        assert changed in merged
    for kept in ("- 12\n", "dropout: 0.3", "lit_digits.schedules.EpochDecay", "batch_size: 64"):
        assert kept in merged
