"""The runtime dependencies are exactly what runtime code imports (issue 9).

A package imported by the installed code but declared only in the `test`
extra breaks a plain `pip install` at run time; one declared but never
imported is weight every user carries. Both directions are checked against
the import statements of the five installed folders.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from tests.python_source import parse

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ("bsk_conformance", "harness", "suites", "reports", "fixtures", "reference_server")
# declared for a reason the import scan cannot see
INDIRECT = {
    # pyjwt's ES256/EdDSA need it; the suites also import it directly
    "cryptography": "imported",
}
# optional plugins' packages: imported by one module only, which is itself
# imported only where that plugin is loaded (a plain install has no xdist)
OPTIONAL = {
    "xdist": ("pytest-xdist", "harness/phase_scheduler.py"),
}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    test = {_name(r) for extra in project["optional-dependencies"].values() for r in extra}
    return runtime, test


def _importers() -> dict[str, set[str]]:
    """Each top-level name runtime code imports, with the files importing it."""
    found: dict[str, set[str]] = {}
    for folder in RUNTIME:
        for path in (ROOT / folder).rglob("*.py"):
            names: set[str] = set()
            for node in ast.walk(parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module.split(".")[0])
            for name in names:
                found.setdefault(name, set()).add(path.relative_to(ROOT).as_posix())
    return found


def _imported_top_levels() -> set[str]:
    return set(_importers()) - set(sys.stdlib_module_names) - {"bsk_conformance", "__future__"} - set(OPTIONAL)


def test_an_optional_plugin_is_imported_only_by_its_one_module() -> None:
    importers = _importers()
    for name, (_, module) in OPTIONAL.items():
        assert importers.get(name, set()) <= {module}, f"{name} imported outside {module}: {importers[name]}"


def _distributions(import_names: set[str]) -> set[str]:
    mapping = packages_distributions()
    found: set[str] = set()
    for name in import_names:
        dists = mapping.get(name)
        assert dists, f"runtime code imports {name!r}, which no installed distribution provides"
        found.update(d.lower().replace("_", "-") for d in dists)
    return found


def test_every_runtime_import_is_a_runtime_dependency() -> None:
    runtime, _ = _declared()
    missing = _distributions(_imported_top_levels()) - runtime
    assert not missing, f"imported at run time but not in [project] dependencies: {sorted(missing)}"


def test_every_runtime_dependency_is_imported() -> None:
    runtime, _ = _declared()
    imported = _distributions(_imported_top_levels())
    unused = runtime - imported - set(INDIRECT)
    assert not unused, f"declared in [project] dependencies but never imported at run time: {sorted(unused)}"


def test_test_only_packages_stay_in_the_test_extra() -> None:
    runtime, test = _declared()
    assert not runtime & test
    assert {"pytest-xdist", "freezegun", "time-machine"} <= test
    assert {dist for dist, _ in OPTIONAL.values()} <= test - runtime
