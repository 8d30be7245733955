"""The precision of every command follows the hardware: a recipe's bf16 only where the device runs
it natively, a user's --trainer.precision always, a resumed run's on the same processor."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers.cli import CONFIGS, SMALL_DAVIDNET, built_cli, child_env
from lightning.pytorch.accelerators import CUDAAccelerator

import lit_digits.precision
from lit_digits.precision import CHECKPOINT_KEY, choose_precision, cpu_model, native_bf16

PRECISION_LINE = re.compile(r"^precision: .*$", re.MULTILINE)


def the_line(result) -> str:
    """The one precision line the command printed on stderr."""
    (line,) = PRECISION_LINE.findall(result.stderr)
    return line


def recorded(tmp_path: Path, version: int = 0) -> dict:
    checkpoint = tmp_path / "runs" / "cifar" / f"version_{version}" / "checkpoints" / "last.ckpt"
    return torch.load(checkpoint, weights_only=True)[CHECKPOINT_KEY]


@pytest.mark.parametrize(
    ("native", "line", "used"),
    [
        (True, "precision: bf16-mixed (the recipe's; this CPU, ", "bf16-mixed"),
        (False, "has no native bf16: the recipe's bf16-mixed would be several times slower)", "32-true"),
    ],
)
def test_recipe_trains_in_bf16_only_where_the_cpu_runs_it_natively(
    native, line, used, cifar_dir, tmp_path, in_process, bf16_cpu
):
    bf16_cpu(native)
    run = in_process.fit("cifar", cifar_dir, *SMALL_DAVIDNET, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert line in the_line(run)
    assert recorded(tmp_path)["precision"] == used
    assert recorded(tmp_path)["recipe"] == "bf16-mixed"
    assert ("Using bfloat16 Automatic Mixed Precision" in run.stderr) == (used == "bf16-mixed")


@pytest.mark.parametrize(
    ("native", "asked", "line"),
    [
        (False, "bf16-mixed", "precision: bf16-mixed (--trainer.precision; this CPU, "),
        (True, "32-true", "precision: 32-true (--trainer.precision)"),
        (True, "bf16", "precision: bf16-mixed (--trainer.precision)"),
    ],
)
def test_a_users_precision_is_obeyed_with_a_warning_where_it_is_slow(
    native, asked, line, cifar_dir, tmp_path, in_process, bf16_cpu
):
    bf16_cpu(native)
    run = in_process.fit("cifar", cifar_dir, *SMALL_DAVIDNET, "--trainer.precision", asked, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert the_line(run).startswith(line)
    assert ("expect it several times slower than 32-true" in run.stderr) == (not native)
    assert recorded(tmp_path)["precision"] == line.split()[1]


def test_a_resume_on_the_same_processor_keeps_the_runs_precision(cifar_dir, tmp_path, in_process, bf16_cpu):
    bf16_cpu(False)
    first = in_process.fit("cifar", cifar_dir, *SMALL_DAVIDNET, "--trainer.precision", "bf16-mixed", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    resumed = in_process.fit("cifar", cifar_dir, *SMALL_DAVIDNET, "--trainer.max_epochs", "2", "--ckpt_path", "last",
                             cwd=tmp_path)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert the_line(resumed).startswith("precision: bf16-mixed (as the checkpoint's run trained, on this processor; ")
    assert recorded(tmp_path)["precision"] == "bf16-mixed"


def test_a_resume_on_another_processor_takes_its_precision_and_says_so(cifar_dir, tmp_path, in_process, bf16_cpu):
    bf16_cpu(True)
    assert in_process.fit("cifar", cifar_dir, *SMALL_DAVIDNET, cwd=tmp_path).returncode == 0
    bf16_cpu(False)  # another CPU, without bf16 instructions
    resumed = in_process.fit("cifar", cifar_dir, *SMALL_DAVIDNET, "--trainer.max_epochs", "2", "--ckpt_path", "last",
                             cwd=tmp_path)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    line = the_line(resumed)
    assert line.startswith("precision: 32-true (this CPU, ")
    assert line.endswith(f"; the checkpoint's run trained in bf16-mixed on CPU, {cpu_model()}, native bf16)")
    assert recorded(tmp_path)["precision"] == "32-true"


@pytest.mark.parametrize("command", ["validate", "test"])
def test_evaluation_commands_choose_by_the_hardware_too(command, cifar_dir, tmp_path, in_process, bf16_cpu):
    bf16_cpu(True)
    assert in_process.fit("cifar", cifar_dir, *SMALL_DAVIDNET, cwd=tmp_path).returncode == 0
    bf16_cpu(False)
    recipe = ["--config", str(CONFIGS / "cifar.yaml"), "--data.data_dir", str(cifar_dir), *SMALL_DAVIDNET]
    result = in_process.run_cli(command, *recipe, "--ckpt_path", "last", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert the_line(result).startswith("precision: 32-true (this CPU, ")


@pytest.mark.parametrize(("native", "used"), [(True, "bf16-mixed"), (False, "32-true")])
def test_report_evaluates_in_the_precision_of_this_cpu(native, used, cifar_dir, tmp_path, in_process, bf16_cpu):
    bf16_cpu(True)
    assert in_process.fit("cifar", cifar_dir, *SMALL_DAVIDNET, cwd=tmp_path).returncode == 0
    bf16_cpu(native)
    run = tmp_path / "runs" / "cifar" / "version_0"
    result = in_process.run_cli("report", str(run), "--data_dir", str(cifar_dir), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert the_line(result).startswith(f"precision: {used} ")


def test_xla_runs_a_recipes_bf16_as_float32(cifar_dir, tmp_path, monkeypatch):
    pytest.importorskip("torch_xla")
    monkeypatch.setenv("PJRT_DEVICE", "CPU")
    args = ["--config", str(CONFIGS / "cifar.yaml"), "--data.data_dir", str(cifar_dir), "--trainer.accelerator",
            "xla_cpu", "--trainer.default_root_dir", str(tmp_path)]  # fmt: skip
    cli = built_cli(*args)  # the trainer's precision plugin: a command shows what it chose, not what it built
    assert cli.trainer.precision == "32-true"


def test_tpu_counts_as_xla_and_auto_only_with_a_tpu(monkeypatch):
    assert choose_precision("tpu", "bf16-mixed", None).precision == "32-true"
    monkeypatch.setattr("lit_digits.accelerators.XLAAccelerator.is_available", staticmethod(lambda: False))
    assert choose_precision("auto", "bf16-mixed", None).precision == "bf16-mixed"


@pytest.mark.parametrize(
    ("bf16", "fp16", "used"), [(True, True, "bf16-mixed"), (False, True, "16-mixed"), (False, False, "32-true")]
)
def test_a_cuda_gpu_without_bf16_trains_in_float16_else_float32(bf16, fp16, used, monkeypatch):
    monkeypatch.setattr(lit_digits.precision, "native_bf16", lambda device: bf16 and device == "cuda")
    monkeypatch.setattr(lit_digits.precision, "native_fp16", lambda device: fp16 and device == "cuda")
    assert choose_precision(CUDAAccelerator(), None, "bf16-mixed").precision == used


def test_onednn_kept_below_its_bf16_instructions_means_no_native_bf16(monkeypatch):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE")  # AVX-512 without BF16: oneDNN emulates bf16 there
    lit_digits.precision._cpu_native_bf16.cache_clear()
    try:
        assert not native_bf16("cpu")
    finally:
        lit_digits.precision._cpu_native_bf16.cache_clear()


@pytest.mark.slow
def test_an_emulated_avx2_cpu_has_no_native_bf16():
    emulation = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    probe = "from lit_digits.precision import native_bf16; print(native_bf16('cpu'))"
    done = subprocess.run([sys.executable, "-c", probe], env=child_env(emulation), capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    assert done.stdout.strip() == "False"
