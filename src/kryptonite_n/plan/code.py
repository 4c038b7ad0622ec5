"""The library code each job runs, as files: a rule's ``code`` input, so that editing a module
reruns exactly the jobs whose scripts import it (directly or not) and no other.

Read from the source text (``ast``), never imported, so planning loads nothing heavy. Two
packages import modules by name, which no import statement shows: the model registry
(``compute.models``: a model's implementation, by the model's name) and the figures
(``report.figures``: a figure's drawing module, by the catalogue). A rule names the models or
figure families its jobs load, and only their modules join its code.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable
from pathlib import Path

from kryptonite_n.plan.catalogue import FIGURES
from kryptonite_n.plan.models import MODELS

REGISTRY = "kryptonite_n.compute.models"
FIGURE_PACKAGE = "kryptonite_n.report.figures"


def module_file(source: Path, module: str) -> Path:
    """The file of a ``kryptonite_n`` module (or package) under the library folder ``source``."""
    path = source.joinpath(*module.split(".")[1:])
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


@functools.cache
def imported_modules(file: Path) -> tuple[str, ...]:
    """The ``kryptonite_n`` modules one source file imports, at any depth of the file
    (``from package import name`` counted as both, since name may be a submodule). Cached:
    every rule's ``code`` input is computed at each parse, and they share most files."""
    imported: list[str] = []
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names if alias.name.startswith("kryptonite_n")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kryptonite_n"):
            imported += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return tuple(imported)


def closure(source: Path, modules: Iterable[str], *, models: Iterable[str] = MODELS,
            families: Iterable[str] | None = None) -> list[Path]:
    """The files of ``modules`` and of every ``kryptonite_n`` module they import, directly or
    not; the registry's by-name imports limited to ``models``, the figures' to the figure
    modules of ``families`` (None: every family)."""
    by_name = {REGISTRY: [f"{REGISTRY}.{model}" for model in models],
               FIGURE_PACKAGE: sorted({f"{FIGURE_PACKAGE}.{figure.draw.split(':')[0]}" for figure in FIGURES
                                       if families is None or figure.family in set(families)})}
    seen: set[str] = set()
    pending = list(modules)
    while pending:
        module = pending.pop()
        file = module_file(source, module)
        if module in seen or not file.exists():
            continue
        seen.add(module)
        pending += by_name.get(module, [])
        pending += imported_modules(file)
        # Importing a module runs its packages' __init__ first.
        pending += [".".join(module.split(".")[:depth]) for depth in range(1, module.count(".") + 1)]
    return sorted({module_file(source, module) for module in seen})


def script_code(repo: Path, script: str, *, models: Iterable[str] = (),
                families: Iterable[str] | None = None) -> list[str]:
    """The library files ``scripts/<script>.py`` runs (``closure`` of what it imports): the
    ``code`` input of the rules that run that script."""
    source = repo / "src" / "kryptonite_n"
    imports = [m for m in imported_modules(repo / "scripts" / f"{script}.py")
               if module_file(source, m).exists()]
    return [str(path) for path in closure(source, imports, models=models, families=families)]
