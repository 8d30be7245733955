"""The hardware and versions a benchmark ran on, for its printed table."""

import datetime
import os
import platform

import lightning
import torch


def hardware() -> str:
    """The GPU's name, or the CPU's model and core count."""
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} cores, torch CPU capability {torch.backends.cpu.get_cpu_capability()}"


def describe() -> str:
    """One line: hardware, torch and Lightning versions, date."""
    return (
        f"{hardware()}; torch {torch.__version__}, lightning {lightning.__version__}; "
        f"{datetime.date.today().isoformat()}"
    )
