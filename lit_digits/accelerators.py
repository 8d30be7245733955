"""Lightning's XLA (TPU) code path on torch-xla's CPU backend, for machines without a TPU.

Lightning's ``accelerator="tpu"`` counts TPU chips on the PCI bus and refuses to start
without one. ``XLACPUAccelerator`` is the same ``XLAAccelerator`` (so Lightning picks its
XLA strategy and precision plugins) but runs on ``PJRT_DEVICE=CPU``. It is for tests and
debugging of the XLA graphs; on a real TPU use ``--trainer.accelerator tpu``.
"""

import os

import torch
from lightning.pytorch.accelerators import XLAAccelerator
from lightning_utilities.core.imports import RequirementCache

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
