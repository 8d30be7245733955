"""Choosing the XLA accelerators: xla_cpu, and clear errors for tpu."""

import pytest

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


@pytest.mark.parametrize("name", ["cpu", "gpu", "auto"])
def test_other_accelerators_are_left_to_lightning(name):
    assert resolve_accelerator(name) == name
