"""The benchmark scripts still run (on tiny data; their figures come from real runs by hand)."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.browser import require_chromium
from helpers.cli import CONFIGS, SMALL_FAST, fit

pytestmark = pytest.mark.slow  # every test here starts another process

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
    assert "(n < 3: no interval), std" in result.stdout
    (csv_file,) = (tmp_path / "out").glob("accuracy_mnist_*.csv")
    rows = list(csv.DictReader(csv_file.open()))
    assert [row["seed"] for row in rows] == ["0", "1"]
    assert all(0 <= float(row[column]) <= 100 for row in rows for column in ("test_acc", "best_val_acc"))


def test_accuracy_compares_two_of_its_csv_files_by_welchs_test(tmp_path):
    for name, accuracies in (("a.csv", [91, 92, 93]), ("b.csv", [93, 94, 95])):
        with (tmp_path / name).open("w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["config", "seed", "epochs", "test_acc", "best_val_acc", "wall_s", "device"])
            writer.writerows(
                ["mnist.yaml", seed, 10, accuracy, "", 100, "cpu"] for seed, accuracy in enumerate(accuracies)
            )
    result = run_script("accuracy.py", "--compare", "a.csv", "b.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # std 1, 3 seeds: 92 ± t(0.975, 2) / sqrt(3) = 92 ± 4.303 / 1.732; the difference: Welch's t = -sqrt(6), df 4
    assert "| a.csv | 3 | 92.00% ± 2.48 | 95% CI [89.52, 94.48] | 1.00 |" in result.stdout
    assert (
        "a.csv - b.csv: -2.00 points (95% CI [-4.27, +0.27]); Welch two-sample t-test p = 0.07 (df 4)" in result.stdout
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.csv", "b.csv"], "a comparison writes nothing"


def test_accuracy_tests_recorded_values_against_a_reference_mean(tmp_path):
    result = run_script("accuracy.py", "--compare-values", "93.84 94.06 94.25 94.13 93.99", "--reference", "94.01",
                        cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "| 93.84 94.06 94.25 94.13 93.99 | 5 | 94.05% ± 0.19 | 95% CI [93.86, 94.24] | 0.15 |" in result.stdout
    assert " - 94.01%: +0.04 points (95% CI [-0.15, +0.23]); one-sample t-test p = 0.56 (df 4)" in result.stdout


def test_accuracy_gives_no_interval_below_three_seeds_and_no_test_below_two(tmp_path):
    result = run_script("accuracy.py", "--compare-values", "94.00 94.12", "95.17", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "| 94.00 94.12 | 2 | 94.06% | n < 3: no interval | 0.08 |" in result.stdout
    assert "| 95.17 | 1 | 95.17% | n < 3: no interval | - |" in result.stdout
    assert "94.00 94.12 - 95.17: -1.11 points (n < 3: no interval); no test with n < 2 on a side" in result.stdout
    assert "p =" not in result.stdout


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
    assert rows == ["none", "EpochLines", "RunCheckpoints"]  # stdout a pipe: epoch lines, no bar
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


def test_export_parity_prints_both_accuracies_and_throughputs(fitted_run, tmp_path):
    result = run_script("export_parity.py", str(fitted_run), "--data_dir", str(fitted_run.parents[2] / "data"),
                        "--out", str(tmp_path), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    (row,) = [line for line in result.stdout.splitlines() if line.startswith(f"| {fitted_run} |")]
    torch_accuracy, onnx_accuracy = row.split(" | ")[1:3]
    assert torch_accuracy == onnx_accuracy and (tmp_path / "mnist-version_0.onnx").is_file()


def test_demo_digits_draws_test_digits_into_the_page_and_counts_those_read_right(fitted_run, mnist_dir, tmp_path):
    require_chromium()
    result = run_script("demo_digits.py", str(fitted_run), "--count", "3", "--data_dir", str(mnist_dir),
                        "--screenshot", str(tmp_path / "page.png"), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "| the first 3 test digits, drawn into the demo page with the mouse | **" in result.stdout
    assert "| the whole test split, as predict reads it from files | " in result.stdout
    assert (tmp_path / "page.png").read_bytes().startswith(b"\x89PNG")


def test_serve_load_prints_requests_per_second_with_batching_off_and_on(fitted_run, tmp_path):
    result = run_script("serve_load.py", str(fitted_run), "--requests", "24", "--clients", "4", "--batch_sizes", "1",
                        "4", "--rounds", "1", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = [line.split("|")[1:5] for line in result.stdout.splitlines() if line.startswith("| ")][2:]
    assert rows == [[" 1 ", " 1 ", " 24 ", " 0 "], [" 4 ", " 1 ", " 24 ", " 0 "]]  # batch size, round, requests, errors
    assert "median requests/s: max_batch_size 1: " in result.stdout and "litserve 0.2" in result.stdout
    assert not list(tmp_path.iterdir())
