"""Class-path specs: the ``{"class_path": ..., "init_args": {...}}`` form of configs, as defaults.

The recipes' defaults (``TPUConvNet()``, ``DavidNet()``) are specs rather than objects, so
``--print_config`` shows every value, each one can be overridden from the command line,
and every model builds its own fresh network.
"""

import importlib
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any


def spec(cls: type, **init_args: Any) -> dict[str, Any]:
    """The spec of ``cls(**init_args)``."""
    return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": init_args}


def factory(value: Any) -> Callable:
    """A spec as a partial of its class (call it with the remaining arguments); anything else as is."""
    if not isinstance(value, Mapping):
        return value
    module, _, name = value["class_path"].rpartition(".")
    return partial(getattr(importlib.import_module(module), name), **value.get("init_args", {}))


def build(value: Any) -> Any:
    """A spec as an object of its class; anything else (an object already) as is."""
    return factory(value)() if isinstance(value, Mapping) else value
