"""Lightning's XLA (TPU) code path on torch-xla's CPU backend, for machines without a TPU.

Lightning's ``accelerator="tpu"`` counts TPU chips on the PCI bus and refuses to start
without one. ``XLACPUAccelerator`` is the same ``XLAAccelerator`` (so Lightning picks its
XLA strategy and precision plugins) but runs on ``PJRT_DEVICE=CPU``. It is for tests and
debugging of the XLA graphs: ``--trainer.accelerator xla_cpu``. On a real TPU use
``--trainer.accelerator tpu``, which is Lightning's own accelerator, untouched.
"""

import os

import torch
from lightning.pytorch.accelerators import AcceleratorRegistry, CUDAAccelerator, XLAAccelerator
from lightning_utilities.core.imports import RequirementCache

from lit_digits.errors import LitDigitsError

_TORCH_XLA = RequirementCache("torch_xla")


class XLACPUAccelerator(XLAAccelerator):
    """``XLAAccelerator`` on torch-xla's CPU backend; ``CPU_NUM_DEVICES`` sets the device count."""

    def __init__(self) -> None:
        os.environ.setdefault("PJRT_DEVICE", "CPU")
        super().__init__()

    @staticmethod
    def auto_device_count() -> int:
        return int(os.environ.get("CPU_NUM_DEVICES", "1"))

    @staticmethod
    def is_available() -> bool:
        return bool(_TORCH_XLA)

    @staticmethod
    def parse_devices(devices: int | str | list[int]) -> int | list[int]:
        if devices in ("auto", -1, "-1"):
            return XLACPUAccelerator.auto_device_count()
        return devices if isinstance(devices, list) else int(devices)

    @staticmethod
    def get_parallel_devices(devices: int | list[int]) -> list[torch.device]:
        devices = XLACPUAccelerator.parse_devices(devices)
        if isinstance(devices, int):
            return [torch.device("xla", i) for i in range(devices)]
        return [torch.device("xla", devices[0])]

    @staticmethod
    def name() -> str:
        return "xla_cpu"


def resolve_accelerator(accelerator: object) -> object:
    """``xla_cpu`` as an ``XLACPUAccelerator``; ``tpu`` checked first, so its error says what to do.

    Anything else is passed through to Lightning unchanged.
    """
    if accelerator == XLACPUAccelerator.name():
        return XLACPUAccelerator()
    choices = "auto, cpu, gpu, tpu or xla_cpu"
    known = {*AcceleratorRegistry.available_accelerators(), "gpu", "auto"}
    if isinstance(accelerator, str) and accelerator not in known:
        raise LitDigitsError(f"--trainer.accelerator {accelerator!r} is not an accelerator; pick {choices}")
    if accelerator in ("gpu", "cuda") and not CUDAAccelerator.is_available():
        raise LitDigitsError(
            f"--trainer.accelerator {accelerator} found no CUDA GPU on this machine (torch {torch.__version__}); "
            "pick cpu, or auto to use what the machine has"
        )
    if accelerator == "tpu":
        if not _TORCH_XLA:
            raise LitDigitsError('--trainer.accelerator tpu needs torch-xla: pip install "lit_digits[tpu]"')
        if not XLAAccelerator.is_available():
            raise LitDigitsError(
                "--trainer.accelerator tpu found no TPU on this machine; run on a Cloud TPU VM, "
                "or pick gpu, cpu, or xla_cpu (the XLA code path on the CPU)"
            )
    return accelerator


def runs_on_xla(accelerator: object) -> bool:
    """Whether Lightning trains on XLA with this (resolved) ``--trainer.accelerator`` value."""
    if isinstance(accelerator, XLAAccelerator) or accelerator == "tpu":
        return True
    return accelerator in ("auto", None) and bool(_TORCH_XLA) and XLAAccelerator.is_available()


def run_pending(device: torch.device) -> None:
    """On an XLA device, run what is pending now, as its own graph (a cut); elsewhere nothing."""
    if device.type == "xla":
        import torch_xla

        torch_xla.sync()
