"""The library's layers (docs/architecture.md): what may import what, read from the source.

base (``io``, ``stats``, ``contract``, ``streams``) < ``plan`` < ``compute`` < ``tables`` <
``report``: a module imports its own layer or a lower one, never a higher one; the project's
modules import each other at the top of the file, without cycles; inside a function a module
imports only a heavy third-party library it defers on purpose; and within ``compute`` only the
jobs that load fitted models by name import the model registry.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "kryptonite_n"
LAYERS = ("base", "plan", "compute", "tables", "report")
BASE = {"kryptonite_n", "kryptonite_n.io", "kryptonite_n.stats", "kryptonite_n.contract",
        "kryptonite_n.streams"}
#: Third-party libraries imported inside functions on purpose, and why (docs/architecture.md).
DEFERRED = {
    "torch": "seconds to import; the report and the plan never need it",
    "art": "the attack library pulls in torch and more, only for gradient attacks",
    "optuna": "only the search needs it; the refit of its best trial does not",
    "sklearn": "imported by a model's fit when it runs, timed apart from the fit",
    "scipy": "a few statistics, not worth a second at every import",
    "codecarbon": "slow to import and only when carbon tracking is on (cpuinfo, pycountry with it)",
    "cpuinfo": "CodeCarbon's CPU lookup",
    "pycountry": "CodeCarbon's country lookup",
    "psutil": "the memory reading, only when a phase is measured",
    "resource": "Unix-only: the peak memory, only when a phase is measured",
    "threadpoolctl": "only a job that limits its threads",
    "vl_convert": "the SVG renderer, only when a figure is drawn",
    "importlib": "CodeCarbon's resource shims, only when it is imported",
}
#: The compute modules that load fitted models by name (the registry ``compute.models``).
LOADS_MODELS = ("kryptonite_n.compute.models", "kryptonite_n.compute.robustness",
                "kryptonite_n.compute.scaling", "kryptonite_n.compute.tuning")


def module_name(file: Path) -> str:
    parts = list(file.relative_to(SOURCE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(file): file for file in sorted(SOURCE.rglob("*.py"))}


def layer(module: str) -> str:
    if module in BASE:
        return "base"
    second = module.split(".")[1]
    return second if second in LAYERS else f"no layer ({module})"


def imports(file: Path) -> Iterator[tuple[str, bool, int]]:
    """(imported module, inside a function, line) of every import in ``file``; ``from a import b``
    gives ``a.b`` when that is a module of the project."""
    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[str, bool, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                yield from ((alias.name, in_function, child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                yield child.module, in_function, child.lineno
                yield from ((f"{child.module}.{alias.name}", in_function, child.lineno)
                            for alias in child.names
                            if f"{child.module}.{alias.name}" in MODULES)
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from walk(child, inner)
    yield from walk(ast.parse(file.read_text()), False)


def project_imports(module: str) -> set[str]:
    return {name for name, _, _ in imports(MODULES[module]) if name in MODULES and name != module}


def test_every_module_is_in_a_layer():
    assert [m for m in MODULES if layer(m) not in LAYERS] == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_climbs_to_a_higher_layer(module):
    rank = LAYERS.index(layer(module)) if layer(module) in LAYERS else len(LAYERS)
    higher = sorted(name for name in project_imports(module)
                    if layer(name) not in LAYERS or LAYERS.index(layer(name)) > rank)
    assert higher == [], f"{module} ({layer(module)}) imports from a higher layer: {higher}"


def test_the_project_imports_form_no_cycle():
    graph = {module: project_imports(module) for module in MODULES}
    # A package's __init__ runs before its submodules: a submodule importing its own package is no cycle.
    graph = {m: {d for d in deps if not m.startswith(f"{d}.")} for m, deps in graph.items()}
    visiting, done, cycles = [], set(), []

    def visit(module: str) -> None:
        visiting.append(module)
        for dep in sorted(graph[module]):
            if dep in visiting:
                cycles.append([*visiting[visiting.index(dep):], dep])
            elif dep not in done:
                visit(dep)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            visit(module)
    assert cycles == []


def test_inside_a_function_only_a_deferred_library_is_imported():
    found = [f"{module}:{line}: {name}" for module, file in MODULES.items()
             for name, in_function, line in imports(file)
             if in_function and name.split(".")[0] not in DEFERRED]
    assert found == [], "imports inside functions that are no deferred heavy library:\n" + "\n".join(found)


def test_only_the_jobs_that_load_models_import_the_registry():
    climbing = sorted(f"{module} -> {name}" for module in MODULES if layer(module) == "compute"
                      and not module.startswith(LOADS_MODELS)
                      for name in project_imports(module) if name.startswith("kryptonite_n.compute.models"))
    assert climbing == []
