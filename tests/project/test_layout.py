"""The package's imports go one way: library -> recipe module -> run plumbing -> reports and serving -> command line."""

import ast
from pathlib import Path

from helpers.cli import REPOSITORY

PACKAGE = REPOSITORY / "lit_digits"
LAYERS = [
    {"errors", "spec", "schedules", "technique", "accelerators", "precision", "lightning_internals", "checkpoints"},
    {"nets", "data", "optim"},
    {"models"},
    {"callbacks", "runs"},
    {"report", "export", "serve"},
    {"cli", "__main__"},
]
"""Each top-level module or folder of lit_digits by layer: a module imports from its own layer and those before it."""


def layer(part: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if part in names)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """The lit_digits modules that ``path`` imports, at its top or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lit_digits"):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names if alias.name.startswith("lit_digits")}
    return names


MODULES = {module_name(path): imported(path) for path in PACKAGE.rglob("*.py")}


def test_every_top_level_module_and_folder_has_a_layer() -> None:
    for name in MODULES:
        if name != "lit_digits":
            layer(name.split(".")[1])


def test_imports_go_one_way() -> None:
    backwards = []
    for name, imports in MODULES.items():
        if name == "lit_digits":  # the public names: anything below the reports and the command line
            own = layer("runs")
        else:
            own = layer(name.split(".")[1])
        for target in imports:
            if target == "lit_digits" or layer(target.split(".")[1]) > own:
                backwards.append(f"{name} imports {target}")
    assert not backwards


def test_no_import_cycles() -> None:
    def depends(name: str, seen: tuple[str, ...]) -> None:
        assert name not in seen, " -> ".join([*seen, name])
        for target in MODULES.get(name, ()):
            if target in MODULES and target != name:
                depends(target, (*seen, name))

    for name in MODULES:
        depends(name, ())
