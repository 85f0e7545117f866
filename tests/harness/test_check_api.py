"""Suites speak to the harness through one module, `bsk_conformance.harness.api`.

Every module in `suites/` may import only from that API, from its own helper
modules (relatively), from the standard library and from the stack's libraries.
No suite reaches into another harness module, and none imports
`reference_server`: a check speaks HTTP to the target and asks the harness
for anything else (a live deployment, a clock set back).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from bsk_conformance.harness import api
from tests.python_source import parse

SUITES = Path(__file__).resolve().parents[2] / "suites"
API = "bsk_conformance.harness.api"
# the stack a check is written with (pyproject's dependencies), by import name
STACK = frozenset({"pytest", "httpx", "schemathesis", "hypothesis", "jwt", "cryptography", "pyotp"})


def forbidden_imports(source: str) -> list[str]:
    """`line: module` for every import in `source` outside the allowed set."""
    found = []
    for node in ast.walk(parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # the suite's own helper modules
                continue
            modules = [node.module or ""]
        else:
            continue
        for module in modules:
            top = module.partition(".")[0]
            if module == API or top in STACK or top in sys.stdlib_module_names or module == "__future__":
                continue
            found.append(f"{node.lineno}: {module}")
    return found


def _suite_modules() -> list:
    return [pytest.param(path, id=path.name) for path in sorted(SUITES.glob("*.py"))]


@pytest.mark.parametrize("path", _suite_modules())
def test_a_suite_imports_only_the_api_relatives_stdlib_and_the_stack(path: Path):
    assert forbidden_imports(path.read_text()) == [], f"suites/{path.name} imports outside the check-author API"


@pytest.mark.parametrize(
    "line",
    [
        "from bsk_conformance.harness.expect import expect",
        "from bsk_conformance.reference_server.clock import FrozenClock",
        "import bsk_conformance.harness.api.something",
        "import uvicorn",
        "def f():\n    from bsk_conformance.reference_server import Settings",
    ],
)
def test_the_walk_catches_an_import_outside_the_api(line: str):
    assert forbidden_imports(line)


@pytest.mark.parametrize(
    "line",
    [
        "from __future__ import annotations",
        "from bsk_conformance.harness.api import expect, requirement",
        "from ._keys import SCOPES",
        "import json",
        "from cryptography.hazmat.primitives import hashes",
        "from hypothesis import strategies as st",
    ],
)
def test_the_walk_lets_the_allowed_set_through(line: str):
    assert forbidden_imports(line) == []


def test_the_api_exports_what_it_names():
    for name in api.__all__:
        assert hasattr(api, name), name
    assert api.requirement.name == "requirement"


def test_the_api_module_only_re_exports():
    """Implementations live in modules named for what they hold; api.py names them."""
    tree = parse(Path(api.__file__).read_text())
    defined = [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    assert defined == []
