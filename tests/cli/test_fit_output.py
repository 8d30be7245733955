"""What a fit shows: a model summary without empty columns, and at the end the run, its accuracy
and the next commands; a variant config given without its base is one line."""

from pathlib import Path

import pytest
from helpers.cli import CONFIGS, assert_one_line_error

TINY_NET = ["--model.init_args.net.init_args.channels", "[2, 4, 4]", "--model.init_args.net.init_args.dense", "[8]"]


def fit_mnist(in_process, data: Path, root: Path, *extra: str):
    return in_process.fit("mnist", data, "--trainer.default_root_dir", str(root), *TINY_NET, *extra, cwd=root.parent)


def test_a_fit_ends_with_its_run_its_accuracy_and_the_next_commands(mnist_dir, tmp_path, in_process):
    result = fit_mnist(in_process, mnist_dir, tmp_path / "runs")
    assert result.returncode == 0
    shown = result.stderr
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


def test_the_next_commands_work(mnist_dir, tmp_path, in_process):
    fitted = fit_mnist(in_process, mnist_dir, tmp_path / "runs")
    assert fitted.returncode == 0
    test_command, report_command, _ = [line.split()[1:] for line in fitted.stderr.splitlines()[-3:]]
    tested = in_process.run_cli(*test_command, "--trainer.enable_progress_bar", "false", cwd=tmp_path)
    assert tested.returncode == 0
    assert "test_acc" in tested.stdout
    assert in_process.run_cli(*report_command, cwd=tmp_path).returncode == 0
    assert (tmp_path / "runs" / "mnist" / "version_0" / "report" / "confusion.png").is_file()


def test_a_fit_without_validation_says_so_and_points_at_last(mnist_dir, tmp_path, in_process):
    result = fit_mnist(in_process, mnist_dir, tmp_path / "runs", "--trainer.limit_val_batches", "0")
    assert result.returncode == 0
    shown = result.stderr
    assert "val_acc: no validation ran" in shown
    assert "--ckpt_path last\n" in shown


def test_no_model_summary_when_turned_off(mnist_dir, tmp_path, in_process):
    result = fit_mnist(in_process, mnist_dir, tmp_path / "runs", "--trainer.enable_model_summary", "false")
    assert result.returncode == 0
    assert "Params" not in result.stderr


@pytest.mark.parametrize(
    ("base", "variant"), [("mnist_codelab", "mnist_codelab_augmented"), ("cifar_air", "cifar_air95")]
)
def test_a_variant_alone_is_one_line_naming_what_to_pass(base, variant, tmp_path, in_process):
    result = in_process.run_cli("fit", "--config", str(CONFIGS / f"{variant}.yaml"), cwd=tmp_path)
    assert_one_line_error(
        result, "changes a recipe but names none", f"--config BASE.yaml --config {CONFIGS}", alone=True
    )
    assert f"configs/{base}.yaml --config configs/{variant}.yaml" in (CONFIGS / f"{variant}.yaml").read_text()


def test_a_variant_after_its_base_is_the_base_with_its_changes(tmp_path, in_process):
    base, variant = CONFIGS / "mnist_codelab.yaml", CONFIGS / "mnist_codelab_augmented.yaml"
    printed = in_process.run_cli("fit", "--config", str(base), "--config", str(variant), "--print_config", cwd=tmp_path)
    assert printed.returncode == 0
    merged = printed.stdout
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
