"""The numeric precision of a run, chosen from what the hardware computes natively.

A recipe states the reduced precision it was designed for (``recipe_precision: bf16-mixed``);
lit_digits uses it only where the device runs it natively, and float32 elsewhere: bf16
autocast on a CPU without bf16 instructions runs many times slower than float32 (docs/speed.md
has the measurements).
A user's ``--trainer.precision`` is obeyed, with a warning where it will be slow. A resumed run
keeps the precision it trained in if it resumes on the same processor.
"""

import functools
import logging
import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from lightning.pytorch.accelerators import Accelerator, CUDAAccelerator, MPSAccelerator
from lightning.pytorch.utilities import rank_zero_only

from lit_digits.accelerators import runs_on_xla

log = logging.getLogger(__name__)

RECIPE_PRECISIONS = ("32-true", "bf16-mixed")
"""What a recipe may state: float32, or bf16 autocast where the device runs it natively."""

SHORT_NAMES = {"16": "16-mixed", "bf16": "bf16-mixed", "32": "32-true", "64": "64-true"}
"""Lightning's other spellings of its precisions."""

ONEDNN_LIMITS_WITHOUT_BF16 = {"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI"}
"""``ONEDNN_MAX_CPU_ISA`` values that keep oneDNN from the AVX-512 BF16 and AMX instructions."""

CHECKPOINT_KEY = "lit_digits_precision"
"""Where a checkpoint records the precision its run trained in (``PrecisionChoice.record``)."""


def native_bf16(device: str) -> bool:
    """Whether ``device`` (a device type: ``cpu``, ``cuda``, ``xla``, ``mps``) multiplies bfloat16
    matrices natively, so that bf16 is faster than float32 there.

    A CPU needs the AVX-512 BF16 or AMX instructions (Intel Cooper Lake, Sapphire Rapids and
    later, AMD Zen 4 and later) and oneDNN allowed to use them (``ONEDNN_MAX_CPU_ISA``), or on
    Arm oneDNN's bf16 support; a CUDA GPU compute capability 8.0 (Ampere) or later. XLA: yes, as
    on a TPU, whose graphs ``xla_cpu`` checks.
    """
    if device == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)
    if device == "xla":
        return True
    return device == "cpu" and _cpu_native_bf16()


def native_fp16(device: str) -> bool:
    """Whether ``device`` multiplies float16 matrices natively: a CUDA GPU with tensor cores
    (compute capability 7.0 or later), or a CPU for which oneDNN reports float16 support."""
    if device == "cuda":
        return torch.cuda.is_available() and torch.cuda.get_device_capability() >= (7, 0)
    return device == "cpu" and torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_fp16_supported()


@functools.cache
def _cpu_native_bf16() -> bool:
    """oneDNN's own bf16 check (which follows ``ONEDNN_MAX_CPU_ISA`` down to AVX2, but also says yes
    for AVX-512 without BF16, where oneDNN emulates it at a loss), and on x86 the instructions
    themselves, not ruled out by ``ONEDNN_MAX_CPU_ISA``."""
    if not (torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()):
        return False
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return True
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA", os.environ.get("DNNL_MAX_CPU_ISA", "")).upper()
    has_instructions = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return has_instructions and limit not in ONEDNN_LIMITS_WITHOUT_BF16


def device_type(accelerator: object) -> str:
    """Where a run with this (resolved) ``--trainer.accelerator`` computes: ``xla``, ``cuda``,
    ``mps`` or ``cpu``, as Lightning picks for ``auto`` and ``gpu``."""
    if runs_on_xla(accelerator):
        return "xla"
    if isinstance(accelerator, Accelerator):
        kinds = {CUDAAccelerator: "cuda", MPSAccelerator: "mps"}
        return next((kind for cls, kind in kinds.items() if isinstance(accelerator, cls)), "cpu")
    if accelerator in ("auto", None, "gpu"):
        if MPSAccelerator.is_available():
            return "mps"
        return "cuda" if CUDAAccelerator.is_available() else "cpu"
    return str(accelerator)


def processor(device: str) -> str:
    """The processor of ``device`` by name, as a line names it: ``this CPU, AMD EPYC``."""
    if device == "cuda" and torch.cuda.is_available():
        return f"this GPU, {torch.cuda.get_device_name()}"
    if device == "cpu":
        return f"this CPU, {cpu_model()}"
    return f"this {device} device"


def cpu_model() -> str:
    """The CPU's model name (``lscpu``'s, from /proc/cpuinfo), or what Python knows of it."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def hardware(device: str) -> str:
    """The processor and what it runs natively, as a checkpoint records it: resuming on the same
    ``hardware`` keeps the run's precision."""
    return f"{processor(device).removeprefix('this ')}, {'native' if native_bf16(device) else 'no native'} bf16"


@dataclass(frozen=True)
class PrecisionChoice:
    """The precision a command runs in (a value of ``Trainer(precision=...)``) and why; ``slow``:
    a user's choice that this hardware runs slowly."""

    precision: str
    reason: str
    recipe: str = "32-true"
    hardware: str = ""
    slow: bool = False

    @rank_zero_only
    def announce(self) -> None:
        """The one line that says which precision and why (a warning if it will be slow), by one process of a run."""
        (log.warning if self.slow else log.info)(f"precision: {self.precision} ({self.reason})")

    def record(self) -> dict[str, str]:
        """What a checkpoint keeps (under ``CHECKPOINT_KEY``), so that a resume knows how the run trained."""
        return {"precision": self.precision, "recipe": self.recipe, "hardware": self.hardware}


def choose_precision(
    accelerator: object, asked: object, recipe: str | None, trained: dict[str, str] | None = None
) -> PrecisionChoice:
    """The precision of a command: ``asked`` (``--trainer.precision``) if given; else that of the
    checkpoint's run (``trained``, its record) on the same hardware; else the recipe's
    (``recipe_precision``, by default the checkpoint's recipe's) where the device runs it
    natively, and float32 where it does not."""
    device = device_type(accelerator)
    recipe = recipe or (trained or {}).get("recipe") or "32-true"
    here = hardware(device)
    if asked is not None:
        return _as_asked(device, str(asked), "--trainer.precision", recipe, here)
    if trained and trained.get("hardware") == here and trained.get("precision"):
        return _as_asked(
            device, trained["precision"], "as the checkpoint's run trained, on this processor", recipe, here
        )
    precision, reason = _for_device(device, recipe)
    if trained and trained.get("precision") not in (None, precision):
        reason += f"; the checkpoint's run trained in {trained['precision']} on {trained.get('hardware')}"
    return PrecisionChoice(precision, reason, recipe, here)


XLA_REASON = "XLA has no autocast, and a TPU multiplies float32 matrices in bf16 already"


def _as_asked(device: str, asked: str, source: str, recipe: str, here: str) -> PrecisionChoice:
    """A precision the user or the resumed run asked for: kept, except bf16 autocast on XLA, which
    has none; a warning where the hardware runs it slowly."""
    precision = SHORT_NAMES.get(asked, asked)
    if device == "xla" and precision == "bf16-mixed":
        return PrecisionChoice("32-true", f"{source} bf16-mixed on XLA: {XLA_REASON}", recipe, here)
    half = precision.split("-")[0]
    native = {"bf16": native_bf16, "16": native_fp16}.get(half)
    if native is not None and device != "xla" and not native(device):
        why = f"{source}; {processor(device)}, has no native {half}: expect it several times slower than 32-true"
        return PrecisionChoice(precision, why, recipe, here, slow=True)
    return PrecisionChoice(precision, source, recipe, here)


def _for_device(device: str, recipe: str) -> tuple[str, str]:
    """The recipe's precision where ``device`` runs it natively, else the nearest one it does; and why."""
    if recipe == "32-true":
        return "32-true", "the recipe's"
    name = processor(device)
    if device == "xla":
        return "32-true", f"the recipe's {recipe} on XLA: {XLA_REASON}"
    if native_bf16(device):
        return recipe, f"the recipe's; {name}, runs bf16 natively"
    if device == "cuda" and native_fp16(device):
        return "16-mixed", f"the recipe's {recipe} in float16; {name}, has no native bf16"
    return "32-true", f"{name}, has no native bf16: the recipe's {recipe} would be several times slower"


def recorded_precision(contents: Mapping[str, Any] | None) -> dict[str, str] | None:
    """A checkpoint's record (its ``contents``, already read) of the precision its run trained in
    (``PrecisionChoice.record``), if it has one."""
    record = contents.get(CHECKPOINT_KEY) if isinstance(contents, Mapping) else None
    return record if isinstance(record, dict) else None
