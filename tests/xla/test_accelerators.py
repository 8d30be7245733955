"""Choosing the XLA accelerators: xla_cpu, clear errors for tpu, and a user's precision on XLA."""

import pytest
from helpers.cli import CONFIGS, built_cli

from lit_digits import LitDigitsError, XLACPUAccelerator
from lit_digits.accelerators import resolve_accelerator


def test_tpu_without_torch_xla_names_the_install_command(monkeypatch):
    monkeypatch.setattr("lit_digits.accelerators._TORCH_XLA", False)
    with pytest.raises(LitDigitsError, match=r'pip install "lit_digits\[tpu\]"'):
        resolve_accelerator("tpu")


def test_xla_cpu_is_lightnings_xla_accelerator_on_one_cpu_device(monkeypatch):
    pytest.importorskip("torch_xla")
    monkeypatch.setenv("PJRT_DEVICE", "CPU")
    accelerator = resolve_accelerator("xla_cpu")
    assert isinstance(accelerator, XLACPUAccelerator)
    assert [str(d) for d in accelerator.get_parallel_devices(1)] == ["xla:0"]


@pytest.mark.parametrize("name", ["cpu", "auto", "mps"])
def test_other_accelerators_are_left_to_lightning(name):
    assert resolve_accelerator(name) == name


def test_gpu_is_left_to_lightning_where_there_is_one(monkeypatch):
    monkeypatch.setattr("lit_digits.accelerators.CUDAAccelerator.is_available", staticmethod(lambda: True))
    assert resolve_accelerator("gpu") == "gpu"
    monkeypatch.setattr("lit_digits.accelerators.CUDAAccelerator.is_available", staticmethod(lambda: False))
    with pytest.raises(LitDigitsError, match="found no CUDA GPU on this machine"):
        resolve_accelerator("gpu")


@pytest.mark.parametrize(
    ("accelerator", "asked", "used"),
    [("xla_cpu", "bf16-mixed", "32-true"), ("xla_cpu", "bf16-true", "bf16-true"), ("cpu", "bf16-mixed", "bf16-mixed")],
)
def test_bf16_autocast_runs_as_float32_on_xla_only(mnist_dir, tmp_path, monkeypatch, accelerator, asked, used):
    if accelerator == "xla_cpu":
        pytest.importorskip("torch_xla")
        monkeypatch.setenv("PJRT_DEVICE", "CPU")
    args = ["--config", str(CONFIGS / "mnist.yaml"), "--data.data_dir", str(mnist_dir),
            "--trainer.accelerator", accelerator, "--trainer.precision", asked, "--trainer.default_root_dir", str(tmp_path)]  # fmt: skip
    cli = built_cli(*args)  # the trainer's precision plugin: a command shows what it chose, not what it built
    assert cli.trainer.precision == used
