"""The benchmark scripts still run (on tiny data; their figures come from real runs by hand)."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import CONFIGS, SMALL_FAST, fit

BENCHMARKS = CONFIGS.parent / "benchmarks"


def run_script(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCHMARKS / name), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip


def test_accuracy_prints_one_row_per_seed_and_the_summary(mnist_dir, tmp_path):
    result = run_script("accuracy.py", "--config", str(CONFIGS / "mnist.yaml"), "--seeds", "0", "1",
                        "--data_dir", str(mnist_dir), "--out", str(tmp_path / "out"),
                        "--", "--trainer.max_epochs", "1", "--data.batch_size", "32",
                        cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "2 runs: test_acc mean" in result.stdout and "best epochs' val_acc: mean" in result.stdout
    (csv_file,) = (tmp_path / "out").glob("accuracy_mnist_*.csv")
    rows = list(csv.DictReader(csv_file.open()))
    assert [row["seed"] for row in rows] == ["0", "1"]
    assert all(0 <= float(row[column]) <= 100 for row in rows for column in ("test_acc", "best_val_acc"))


def test_throughput_compares_lightning_with_the_loop(cifar_dir, tmp_path):
    result = run_script("throughput.py", "--config", str(CONFIGS / "cifar.yaml"), "--data_dir",
                        str(cifar_dir), "--steps", "3", "--rounds", "1",
                        "--", "--data.batch_size", "16", "--model.net.init_args.width", "8", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "ratio Lightning / loop:" in result.stdout and "peak memory" in result.stdout


def test_step_overhead_prints_the_three_arms(mnist_dir, tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    result = run_script("step_overhead.py", "--config", str(CONFIGS / "mnist.yaml"), "--data_dir", str(mnist_dir),
                        "--steps", "24", "--rounds", "1", cwd=cwd)  # fmt: skip
    assert result.returncode == 0, result.stderr
    for arm in ("| loop |", "| bare Lightning |", "| lit_digits fit |"):
        assert arm in result.stdout
    assert not list(cwd.iterdir()), "the benchmark leaves no run folders behind"


def test_callback_cost_prints_each_run_callback_over_none(mnist_dir, tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    result = run_script("callback_cost.py", "--config", str(CONFIGS / "mnist.yaml"), "--data_dir", str(mnist_dir),
                        "--calls", "10", cwd=cwd)  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = [line.split("|")[1].strip() for line in result.stdout.splitlines() if line.startswith("| ")][2:]
    assert rows == ["none", "TimedProgressBar", "RunCheckpoints"]
    assert not list(cwd.iterdir()), "the benchmark leaves no run folders behind"


def test_recipe_time_projects_each_recipe_against_the_first(cifar_dir, tmp_path):
    result = run_script("recipe_time.py", "--configs", str(CONFIGS / "cifar.yaml"), str(CONFIGS / "cifar_fast.yaml"),
                        "--data_dir", str(cifar_dir), "--steps", "3", "--rounds", "1",
                        "--", "--data.batch_size", "16", "--model.net.init_args.width", "8", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "| cifar.yaml |" in result.stdout and "| 3125 x 24 |" in result.stdout  # the full data set, at batch 16
    assert "| cifar_fast.yaml |" in result.stdout and "| 3125 x 10 |" in result.stdout


def test_cpu_precision_times_each_precision_and_memory_format_beside_lit_digits_choice(cifar_dir, tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    result = run_script("cpu_precision.py", "--configs", str(CONFIGS / "cifar.yaml"), "--data_dir", str(cifar_dir),
                        "--steps", "2", "--batch_size", "16", "--", "--model.net.init_args.width", "8", cwd=cwd)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "native bf16 (lit_digits.precision.native_bf16): " in result.stdout
    assert "cifar.yaml: lit_digits chooses precision " in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("| cifar.yaml (16) |"))
    assert len(row.split("|")) == 9  # the recipe, four cells, the shipped cell and its ratio
    assert not list(cwd.iterdir()), "the benchmark leaves no run folders behind"


def test_sgd_forms_compares_the_two_updates_for_each_recipe(tmp_path):
    result = run_script("sgd_forms.py", "--configs", str(CONFIGS / "cifar.yaml"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "cifar.yaml |" in line)
    distance_ratio = float(row.split("|")[4])
    assert distance_ratio == pytest.approx(1.0, abs=0.01)  # the two forms travel as far


def test_evaluation_tricks_tests_each_combination_of_average_and_tta(cifar_dir, tmp_path):
    assert fit("cifar_fast", cifar_dir, *SMALL_FAST, cwd=tmp_path).returncode == 0
    checkpoint = tmp_path / "runs" / "cifar_fast" / "version_0" / "checkpoints" / "last.ckpt"
    result = run_script("evaluation_tricks.py", str(checkpoint), "--rounds", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith(("| trained", "| moving"))]
    assert [row.split("|")[1:3] for row in rows] == [
        [" trained ", " off "], [" trained ", " on "], [" moving average ", " off "], [" moving average ", " on "]
    ]  # fmt: skip
