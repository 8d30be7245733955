"""How checkpoints and configs written by earlier versions keep their meaning: the one place
where an older spelling of a recipe is read as today's.

1. The flat options of 0.1.0 (``compile``, ``compile_mode``, ``ema_decay``, ``ema_every_n_steps``,
   ``tta_flip``, ``tta_translate``) are still arguments of ``ImageClassifier``, in checkpoints and
   configs alike, and switch on the technique objects that replaced them (``flag_techniques``).
2. The arguments added after 0.1.0 (``LATER_ARGUMENTS``, and those of the classes a recipe names,
   ``LATER_CLASS_ARGUMENTS``) are recorded in a checkpoint's hyper-parameters only when given, so that an older checkpoint resumes into the hyper-parameters
   it holds; and a checkpoint that lacks one had it at its default, whatever the config given with
   ``--ckpt_path`` says (``LitDigitsCLI.apply_checkpoint_hyper_parameters``).
"""

from typing import Any

from lit_digits.errors import LitDigitsError
from lit_digits.models.averaging import WeightAverage
from lit_digits.models.compiling import Compile
from lit_digits.models.views import AveragedViews
from lit_digits.technique import Technique

LATER_ARGUMENTS = {"summed_loss": None, "techniques": []}
"""``ImageClassifier``'s arguments added after 0.1.0, with their defaults (rule 2)."""
LATER_CLASS_ARGUMENTS = {"AirbenchNet": {"group_activation": None}, "Muon": {"normalize_every": 1}}
"""The arguments added after 0.1.0 to lit_digits classes a recipe names (by class name), with their
defaults (rule 2)."""


def without_later_defaults(value: Any) -> Any:
    """``value`` (hyper-parameters, or a part of them) without the ``LATER_CLASS_ARGUMENTS`` that its
    lit_digits class-path specs hold at their defaults."""
    if isinstance(value, list):
        return [without_later_defaults(item) for item in value]
    if not isinstance(value, dict):
        return value
    value = {key: without_later_defaults(item) for key, item in value.items()}
    path, arguments = value.get("class_path"), value.get("init_args")
    if isinstance(path, str) and path.startswith("lit_digits.") and isinstance(arguments, dict):
        later = LATER_CLASS_ARGUMENTS.get(path.rsplit(".", 1)[-1], {})
        value["init_args"] = {key: item for key, item in arguments.items() if key not in later or item != later[key]}
    return value


def flag_techniques(
    compile: bool, compile_mode: str, ema_decay: float, ema_every_n_steps: int, tta_flip: bool, tta_translate: bool
) -> list[Technique]:
    """The techniques the flat options switch on (rule 1): ``compile`` is ``Compile(compile_mode)``,
    ``ema_decay`` other than 0 ``WeightAverage(ema_decay, ema_every_n_steps)``, ``tta_flip`` or
    ``tta_translate`` ``AveragedViews(tta_flip, tta_translate)``; ``compile_mode`` and
    ``ema_every_n_steps`` are checked also where the option they go with is off, as before."""
    compiling = Compile(compile_mode)
    if ema_every_n_steps < 1:
        raise LitDigitsError(f"ema_every_n_steps must be at least 1, got {ema_every_n_steps}")
    return [*([compiling] if compile else []),
            *([WeightAverage(ema_decay, ema_every_n_steps)] if ema_decay else []),
            *([AveragedViews(tta_flip, tta_translate)] if tta_flip or tta_translate else [])]  # fmt: skip
