"""A checkpoint is data, never code: what the class paths inside one may name, checked before
anything they name is imported or called.

A checkpoint's hyper-parameters name classes (``_class_path``, and ``{"class_path": ...,
"init_args": ...}`` specs for the network, the optimizers, the schedules), which loading builds.
``CheckedCheckpoint.read`` accepts one only if every class path

1. names a module of lit_digits, torch or torchvision (public modules only: no part starts with
   ``_``), or a module the user trusts: one this run's config or command line names, or one
   given as ``trusted_modules`` (``--trusted_modules``), with its submodules;
2. and, once that module is imported, names a class of the kind its place asks for: the model
   an ``ImageClassifier`` (or the class loading it), the data module an ``ImageDataModule``,
   ``optimizer`` a ``torch.optim.Optimizer``, ``lr_schedule`` an ``LRSchedule``, each of
   ``techniques`` a ``Technique``, ``net`` and any other spec an ``nn.Module``.

Checkpoints are unpickled with ``weights_only`` (tensors and plain data), and the file is read
once: what is loaded is what was checked.
"""

import importlib
import importlib.util
import inspect
import io
import pickle
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import torch
import yaml
from lightning.pytorch import LightningDataModule, LightningModule
from torch import nn

from lit_digits.errors import LitDigitsError
from lit_digits.schedules import LRSchedule
from lit_digits.technique import Technique

PACKAGES = ("lit_digits", "torch", "torchvision")
"""The packages whose public modules a checkpoint may name without the user's word."""

KINDS: dict[str, type] = {
    "optimizer": torch.optim.Optimizer,
    "lr_schedule": LRSchedule,
    "net": nn.Module,
    "techniques": Technique,
}
"""The kind of class a spec must name, by the key that holds it; a spec under any other key: ``nn.Module``."""

KIND_NAMES = {torch.optim.Optimizer: "torch.optim.Optimizer", LRSchedule: "lit_digits LRSchedule",
              nn.Module: "torch nn.Module", Technique: "lit_digits Technique", LightningModule: "LightningModule", LightningDataModule: "LightningDataModule"}  # fmt: skip

INSTANTIATORS = ("lightning.pytorch.cli.instantiate_module", "pytorch_lightning.cli.instantiate_module")
"""What Lightning's CLI writes as ``_instantiator``, the only values a checkpoint may hold there."""

MAX_DEPTH = 64
"""How deep a checkpoint's hyper-parameters may nest (a recipe's go a few levels down)."""

DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")

MODEL_KEY, DATA_KEY = "hyper_parameters", "datamodule_hyper_parameters"
OWNERS = {MODEL_KEY: LightningModule, DATA_KEY: LightningDataModule}
LEGACY_KEYS = ("hparams", "module_arguments")
"""Where older Lightning releases kept the model's hyper-parameters, which its loader still merges in."""
NAMES = ("hparams_name", "datamodule_hparams_name")
"""Lightning's name of the argument that takes all hyper-parameters as one, left out of the file loaded."""
"""The kind of class each part of a checkpoint names as its ``_class_path`` (narrowed by the loader)."""


def accepted_arguments(cls: type) -> list[str]:
    """The arguments ``cls`` takes: those of its ``__init__``, and of its bases' where it passes
    ``**kwargs`` on."""
    names: list[str] = []
    for base in inspect.getmro(cls):
        if "__init__" not in vars(base):
            continue
        parameters = inspect.signature(base.__init__).parameters.values()
        names += [p.name for p in parameters if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            break
    return names


def named_modules(config: Any) -> set[str]:
    """The modules of every ``class_path`` in ``config`` (a config's ``as_dict()``, or part of one)."""
    found: set[str] = set()
    if isinstance(config, Mapping):
        class_path = config.get("class_path")
        if isinstance(class_path, str) and DOTTED_NAME.fullmatch(class_path):
            found.add(class_path.rpartition(".")[0])
        for value in config.values():
            found |= named_modules(value)
    elif isinstance(config, list | tuple):
        for value in config:
            found |= named_modules(value)
    return found


@dataclass
class ClassRules:
    """Which classes a checkpoint may name (the module's docstring): the user's ``trusted`` modules
    (each with its submodules) besides the public modules of ``PACKAGES``."""

    source: Path | str
    trusted: frozenset[str] = frozenset()

    def resolve(self, class_path: Any, kind: type, field: str) -> type:
        """The class ``class_path`` names, once the rules allow it, imported; else one-line ``LitDigitsError``."""
        if not isinstance(class_path, str) or not DOTTED_NAME.fullmatch(class_path):
            self.refuse(field, f"{class_path!r} is not a class path (package.module.Class)")
        module_name, _, name = class_path.rpartition(".")
        if not self.allows(module_name):
            self.refuse(
                field,
                f"{class_path} is not a class of {', '.join(PACKAGES)}, nor of a module this run names, and a "
                "checkpoint may name only those (a package of your own: --trusted_modules PACKAGE)",
            )
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            self.refuse(field, f"{class_path} cannot be imported ({err})")
        found = getattr(module, name, None)
        if not (isinstance(found, type) and issubclass(found, kind)):
            self.refuse(field, f"{class_path} is not a {KIND_NAMES.get(kind, kind.__name__)} subclass")
        return found

    def allows(self, module_name: str) -> bool:
        """Whether a checkpoint may have ``module_name`` imported: a public module (no part starts
        with ``_``: no ``__main__``, nothing private) of ``PACKAGES`` or of a trusted module."""
        parts = module_name.split(".")
        within = any(module_name == trusted or module_name.startswith(f"{trusted}.") for trusted in self.trusted)
        return (within or parts[0] in PACKAGES) and not any(part.startswith("_") for part in parts)

    def refuse(self, field: str, reason: str) -> None:
        raise LitDigitsError(f"checkpoint {self.source}: {field}: {reason}; it was not loaded")

    def check_specs(self, value: Any, field: str, kind: type) -> None:
        """Every spec in ``value`` (mappings and lists, to ``MAX_DEPTH``) names a class the rules allow,
        of ``kind`` where the key asks for one (``KINDS``); a name where a spec belongs is refused."""
        if field.count(".") + field.count("[") > MAX_DEPTH:
            self.refuse(field, f"nested deeper than {MAX_DEPTH} levels, which no recipe is")
        if isinstance(value, Mapping):
            if "class_path" in value:
                self.resolve(value["class_path"], kind, f"{field}.class_path")
            for key, item in value.items():
                if key != "class_path":
                    self.check_specs(item, f"{field}.{key}", KINDS.get(key, nn.Module))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                self.check_specs(item, f"{field}[{index}]", kind)
        elif isinstance(value, str):
            self.check_string(value, field, kind)

    def check_string(self, value: str, field: str, kind: type) -> None:
        """A string is data, never a way to name a class: refused where a spec belongs, where it
        names something in an importable module the rules do not allow (the argument parser turns
        such strings into classes and functions where a parameter takes one), and where it holds a
        structure (which the parser reads as YAML) that does."""
        if field.rpartition(".")[2] in KINDS:
            self.refuse(field, f"{value!r} is a name where a class_path spec belongs")
        if DOTTED_NAME.fullmatch(value) and not self.allows(value.rpartition(".")[0]) and _importable(value):
            self.refuse(field, f"{value!r} names {value.partition('.')[0]}, a module a checkpoint may not name")
        if value.lstrip()[:1] in ("{", "["):
            try:
                structure = yaml.safe_load(value)
            except yaml.YAMLError:
                return
            self.check_specs(structure, field, kind)


@dataclass
class CheckedCheckpoint:
    """A checkpoint's contents whose class paths passed ``ClassRules``: ``model_class`` and
    ``data_class`` name the classes they allow; ``file()`` is the same contents to load."""

    source: Path | str
    contents: dict[str, Any]
    rules: ClassRules

    @classmethod
    def read(cls, path: Path | str | IO[bytes], trusted_modules: Iterable[str] = ()) -> "CheckedCheckpoint":
        """Read ``path`` (with ``weights_only``) and check every class path of its hyper-parameters."""
        source = path if isinstance(path, Path | str) else getattr(path, "name", "(file object)")
        contents = read_checkpoint(path)
        trusted = [trusted_modules] if isinstance(trusted_modules, str) else list(trusted_modules)
        checked = cls(source, contents, ClassRules(source, frozenset(trusted)))
        checked.check_layout()
        for key, owner in OWNERS.items():
            checked._named_class(key, owner)
            hyper_parameters = checked.hyper_parameters(key)
            instantiator = hyper_parameters.get("_instantiator")
            if instantiator is not None and instantiator not in INSTANTIATORS:
                checked.rules.refuse(f"{key}._instantiator", f"{instantiator!r} is not Lightning's CLI instantiator")
            for name, value in hyper_parameters.items():
                if name not in ("_class_path", "_instantiator"):
                    checked.rules.check_specs(value, f"{key}.{name}", KINDS.get(name, nn.Module))
        return checked

    def check_layout(self) -> None:
        """The parts Lightning reads besides the hyper-parameters are what it wrote: weights as
        tensors, its version as text; and nothing that would give the model other arguments than
        the ones checked here (the hyper-parameters' older keys, a name to wrap them in)."""
        weights = self.contents.get("state_dict")
        if not isinstance(weights, Mapping) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
            self.rules.refuse("state_dict", "missing, or not a mapping of names to tensors")
        if not isinstance(self.contents.get("pytorch-lightning_version"), str):
            self.rules.refuse("pytorch-lightning_version", "missing or not text: not a checkpoint Lightning wrote")
        for key in LEGACY_KEYS:
            if key in self.contents:
                self.rules.refuse(
                    key, "lit_digits' checkpoints hold no such key (an older Lightning's hyper-parameters)"
                )

    def hyper_parameters(self, key: str = MODEL_KEY) -> dict[str, Any]:
        """The model's (``MODEL_KEY``) or data module's (``DATA_KEY``) hyper-parameters, as saved."""
        value = self.contents.get(key, {})
        if not isinstance(value, Mapping) or not all(isinstance(name, str) for name in value):
            self.rules.refuse(key, "not a mapping of argument names to values")
        return dict(value)

    def model_class(self, base: type) -> type:
        """The model class the checkpoint names (``_class_path``), a subclass of ``base``; ``base`` if none."""
        return self._named_class(MODEL_KEY, base)

    def data_class(self, base: type) -> type:
        """The data module class the checkpoint names, a subclass of ``base``; ``base`` if none."""
        return self._named_class(DATA_KEY, base)

    def _named_class(self, key: str, base: type) -> type:
        """The class the checkpoint names for ``key``, a subclass of ``base``, whose arguments its
        hyper-parameters are."""
        hyper_parameters = self.hyper_parameters(key)
        class_path = hyper_parameters.get("_class_path")
        found = base if class_path is None else self.rules.resolve(class_path, base, f"{key}._class_path")
        takes = accepted_arguments(found)
        unknown = [name for name in hyper_parameters if name not in ("_class_path", "_instantiator", *takes)]
        if unknown and found not in OWNERS.values():
            self.rules.refuse(f"{key}.{unknown[0]}", f"not an argument of {found.__name__}")
        return found

    def file(self) -> IO[bytes]:
        """The checked contents as a checkpoint file in memory, with the class paths that chose the
        classes taken out, so that Lightning's ``load_from_checkpoint`` builds the classes checked
        here from plain arguments (its CLI instantiator would hand them to jsonargparse again)."""
        contents = dict(self.contents)
        for key in NAMES:
            contents.pop(key, None)
        for key in OWNERS:
            if key in contents:
                contents[key] = {k: v for k, v in self.hyper_parameters(key).items()
                                 if k not in ("_class_path", "_instantiator")}  # fmt: skip
        buffer = io.BytesIO()
        torch.save(contents, buffer)
        buffer.seek(0)
        return buffer


def load_checked(load: Any, checked: "CheckedCheckpoint", **kwargs: Any) -> Any:
    """``load`` (a Lightning ``load_from_checkpoint``) of ``checked``'s file; weights that do not fit
    the model they name are one ``LitDigitsError``."""
    try:
        return load(checked.file(), weights_only=True, **kwargs)
    except RuntimeError as err:
        if "Error(s) in loading state_dict" not in str(err):
            raise
        checked.rules.refuse("state_dict", f"its weights do not fit the model it names ({str(err).splitlines()[0]})")
    except (TypeError, ValueError) as err:  # the class refused a value of the checkpoint's (its type, its range)
        checked.rules.refuse(
            "hyper_parameters", f"a value does not fit the class it is for ({str(err).splitlines()[0]})"
        )


def _importable(dotted_name: str) -> bool:
    """Whether the top-level package of ``dotted_name`` could be imported (found, not imported)."""
    try:
        return importlib.util.find_spec(dotted_name.partition(".")[0]) is not None
    except (ImportError, ValueError):
        return False


def read_checkpoint(path: Path | str | IO[bytes]) -> dict[str, Any]:
    """The checkpoint's contents, unpickled with ``weights_only`` (tensors and plain data, no code)."""
    try:
        contents = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise LitDigitsError(
            f"{path} holds objects other than tensors and plain data, which could run code when "
            "loaded, so it was not loaded; use a checkpoint written by lit_digits fit"
        ) from err
    except (RuntimeError, EOFError, ValueError, OSError) as err:
        raise LitDigitsError(
            f"{path} is truncated or not a PyTorch checkpoint; pass a .ckpt written by lit_digits fit"
        ) from err
    if not isinstance(contents, dict):
        raise LitDigitsError(f"{path} is not a Lightning checkpoint (no mapping inside); pass one written by fit")
    return contents
