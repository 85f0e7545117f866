"""The import graph of harness/ and reference_server/ has no circle, and the
suites speak HTTP only (no `reference_server` import).

Read from the source with `ast`, not by importing: every import counts,
wherever it stands (module level, inside a function, under TYPE_CHECKING),
because a circle hidden in a function is still a circle: it only moves the
failure from start-up to the first call.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.python_source import parse

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "bsk_conformance"
# the installed name of each top-level folder (pyproject's package-dir)
FOLDERS = ("harness", "reference_server", "reports", "suites")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def modules_of(folder: str) -> dict[str, Path]:
    return {module_name(path): path for path in sorted((ROOT / folder).rglob("*.py"))}


def imported(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules `path` (module `name`) imports, resolved to module names."""
    tree = parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from pkg import mod` names a module; `from mod import name` names the module
            candidates = [f"{stem}.{alias.name}" for alias in node.names] + [stem]
        else:
            continue
        for candidate in candidates:
            resolved = _resolve(candidate, known)
            if resolved is not None and resolved != name:
                found.add(resolved)
    return found


def _resolve(dotted: str, known: set[str]) -> str | None:
    """The longest known module that `dotted` is or lies in."""
    parts = dotted.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def graph(folders: tuple[str, ...]) -> dict[str, set[str]]:
    paths = {name: path for folder in FOLDERS for name, path in modules_of(folder).items()}
    known = set(paths)
    inside = {name for folder in folders for name in modules_of(folder)}
    edges: dict[str, set[str]] = {}
    for name in sorted(inside):
        targets = imported(paths[name], name, known)
        # a package's __init__ is run by importing any module in it: an import of
        # `pkg.mod` is not an edge to `pkg` (that would make every package a circle)
        edges[name] = {t for t in targets if t in inside and not name.startswith(t + ".")}
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One circle of the graph as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


@pytest.mark.parametrize("folder", ["harness", "reference_server"])
def test_no_import_circle(folder: str) -> None:
    cycle = find_cycle(graph((folder,)))
    assert cycle is None, f"import circle in {folder}/: {' -> '.join(cycle)}"


def test_no_import_circle_between_harness_and_reports() -> None:
    cycle = find_cycle(graph(("harness", "reports")))
    assert cycle is None, f"import circle: {' -> '.join(cycle)}"


def test_run_state_imports_no_other_harness_module() -> None:
    """harness/state.py is the bottom of the harness: every module may import it."""
    edges = graph(("harness",))
    assert edges[f"{PACKAGE}.harness.state"] == set()
    # and the graph is read from the real tree: the plugin and the fixtures reach the state
    assert f"{PACKAGE}.harness.state" in edges[f"{PACKAGE}.harness.plugin"]
    assert f"{PACKAGE}.harness.service" in edges[f"{PACKAGE}.harness.fixtures"]


def imports_into(folder: str, prefix: str) -> dict[str, list[str]]:
    """Each module of `folder` that imports something under `prefix`, with what."""
    paths = {name: path for top in FOLDERS for name, path in modules_of(top).items()}
    found = {
        name: sorted(t for t in imported(paths[name], name, set(paths)) if t.startswith(f"{PACKAGE}.{prefix}"))
        for name in modules_of(folder)
    }
    return {name: targets for name, targets in found.items() if targets}


def test_reports_import_nothing_of_the_harness() -> None:
    """A buyer checks a bundle with the reports alone."""
    assert imports_into("reports", "harness") == {}


def test_suites_do_not_import_the_reference_server() -> None:
    """A check speaks HTTP only; a live deployment comes from the harness."""
    assert imports_into("suites", "reference_server") == {}


def test_the_reader_sees_the_imports_it_forbids() -> None:
    """The two checks above are not vacuous: the harness does import the reports."""
    assert f"{PACKAGE}.reports.vocabulary" in imports_into("harness", "reports")[f"{PACKAGE}.harness.requirements"]


# -- the graph reader itself: it must see each kind of import it claims to -----------


def test_the_reader_finds_a_circle_through_a_function_level_import(tmp_path: Path) -> None:
    a = tmp_path / "a.py"
    a.write_text("from . import b\n")
    b = tmp_path / "b.py"
    b.write_text("def later():\n    from bsk_conformance.harness.a import x\n")
    known = {f"{PACKAGE}.harness.a", f"{PACKAGE}.harness.b"}
    edges = {
        f"{PACKAGE}.harness.a": imported(a, f"{PACKAGE}.harness.a", known),
        f"{PACKAGE}.harness.b": imported(b, f"{PACKAGE}.harness.b", known),
    }
    assert find_cycle(edges) == [f"{PACKAGE}.harness.a", f"{PACKAGE}.harness.b", f"{PACKAGE}.harness.a"]


def test_the_reader_resolves_relative_and_type_checking_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "from ..reports.model import STATUSES\n"
        "if TYPE_CHECKING:\n"
        "    from .plugin import RunState\n"
        "import bsk_conformance.harness.clock\n"
    )
    known = {f"{PACKAGE}.reports.model", f"{PACKAGE}.harness.plugin", f"{PACKAGE}.harness.clock"}
    assert imported(module, f"{PACKAGE}.harness.m", known) == known
