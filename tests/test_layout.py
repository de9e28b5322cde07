"""The package layout's rules, read from the source: no import cycles, and the judges stay out of the parts
that must take a judge from the caller."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Source folder -> the package name it installs as.
PACKAGES = {"t2v": "t2v", "pipelines": "t2v.pipelines", "rewards": "t2v.rewards"}
JUDGES = ("t2v.world.oracle", "t2v.world.render")
# Code that must be handed a judge (or renderer) by its caller, never build one.
JUDGE_FREE = ("t2v.pipelines", "t2v.editing", "t2v.story", "t2v.rewards.train")
MODEL_CODE = ("t2v.models", "t2v.training", "t2v.pipelines", "t2v.rewards", "diffusers", "transformers", "torch")


def module_files() -> dict[str, Path]:
    found = {}
    for folder, package in PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            if "weights" in path.parts:
                continue
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


def imported_names(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports, at module level or inside functions, resolved to absolute names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """Edges between the project's own modules; a name that is a package attribute resolves to the package."""
    files = module_files()
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        edges = set()
        for target in imported_names(name, path):
            while target and target not in files:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                edges.add(target)
        graph[name] = edges
    return graph


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, stack = set(), [start]
    while stack:
        for nxt in graph[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def test_the_graph_sees_relative_and_function_level_imports():
    graph = import_graph()
    assert "t2v.world.spec" in graph["t2v.world.render"]  # "from .spec import ..."
    assert "t2v.pipelines" in graph["t2v.models.tiny_shapes"]  # inside a function, "from ..pipelines import ..."


def test_no_import_cycles():
    graph = import_graph()
    cycles = sorted(name for name in graph if name in reachable(graph, name))
    assert not cycles, f"modules on an import cycle: {cycles}"


@pytest.mark.parametrize("part", JUDGE_FREE)
def test_judge_free_code_never_imports_a_judge(part):
    graph = import_graph()
    modules = [n for n in graph if n == part or n.startswith(part + ".")]
    if not modules:
        pytest.skip(f"{part} is not written yet")
    for name in modules:
        judges = sorted(m for m in reachable(graph, name) | {name} if m.startswith(JUDGES))
        assert not judges, f"{name} imports {judges}: take the judge from the caller instead"


def test_the_world_never_imports_a_model():
    files = module_files()
    for name, path in files.items():
        if name.startswith("t2v.world"):
            models = sorted(m for m in imported_names(name, path) if m.startswith(MODEL_CODE))
            assert not models, f"{name} imports {models}"
