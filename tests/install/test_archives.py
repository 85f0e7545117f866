"""The wheel and the sdist: built without a setuptools warning, holding exactly what they should.

setuptools once printed screens of "Package would be ignored" warnings
(issue 23) for data folders with importable names that were not listed as
packages: data it warns about may be left out silently. Each archive is
listed against the checkout: every file of the folders that ship (modules,
the requirement catalogue, attack vectors, the report schemas and templates,
the OpenAPI document) is in it, under the one import name in the wheel, and
nothing else is (no tests/, no bench/, no docs/).
"""

from __future__ import annotations

import re
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.install.building import PACKAGE_FOLDERS, ROOT, Built, build_sdist

# what setuptools or the wheel/build tools say when something is off; pip's own
# notes about this machine's package index ("WARNING: Location ... is ignored")
# are not the build's
_WARNING = re.compile(r"warn|would be ignored|is absent from|deprecat", re.IGNORECASE)
_PIP_INDEX_NOTE = re.compile(r"^WARNING: Location '.*' is ignored")
DIST = "bsk_conformance-0.1.0"


def _shipped() -> list[Path]:
    """Every file of the folders that ship, relative to the checkout."""
    return sorted(
        path.relative_to(ROOT)
        for folder in PACKAGE_FOLDERS
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


def _in_wheel(path: Path) -> str:
    """harness/plugin.py -> bsk_conformance/harness/plugin.py (pyproject's package-dir)."""
    return path.as_posix() if path.parts[0] == "bsk_conformance" else f"bsk_conformance/{path.as_posix()}"


def _warnings(output: str) -> list[str]:
    return [line for line in output.splitlines() if _WARNING.search(line) and not _PIP_INDEX_NOTE.match(line.strip())]


@pytest.fixture(scope="module")
def built_sdist(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_sdist(tmp_path_factory.mktemp("sdist"))


def test_the_wheel_builds_without_a_warning(built_wheel: Built) -> None:
    assert "Successfully built" in built_wheel.output or "Saved" in built_wheel.output, built_wheel.output[-2000:]
    assert _warnings(built_wheel.output) == []


def test_the_sdist_builds_without_a_warning(built_sdist: Built) -> None:
    assert "Successfully built" in built_sdist.output, built_sdist.output[-2000:]
    assert _warnings(built_sdist.output) == []


def test_the_wheel_holds_every_shipped_file_and_nothing_else(built_wheel: Built) -> None:
    with zipfile.ZipFile(built_wheel.path) as wheel:
        names = {name for name in wheel.namelist() if not name.endswith("/")}
    metadata = {f"{DIST}.dist-info/{name}" for name in ("METADATA", "WHEEL", "entry_points.txt", "top_level.txt", "RECORD")}
    expected = {_in_wheel(path) for path in _shipped()} | metadata
    assert sorted(names - expected) == [], "in the wheel, but not a file of a shipped folder"
    assert sorted(expected - names) == [], "a file of a shipped folder the wheel left out"
    # the data a run cannot do without, by name, so that an empty listing cannot pass
    assert {
        "bsk_conformance/fixtures/requirements/tokens.toml",
        "bsk_conformance/fixtures/attack-vectors/jwt.json",
        "bsk_conformance/fixtures/contract-openapi.json",
        "bsk_conformance/reports/schema/conformance-v1.schema.json",
        "bsk_conformance/reports/templates/conformance.html.j2",
        "bsk_conformance/harness/plugin.py",
    } <= names


def test_the_sdist_holds_the_source_and_no_tests(built_sdist: Built) -> None:
    with tarfile.open(built_sdist.path) as sdist:
        names = {member.name.removeprefix(f"{DIST}/") for member in sdist.getmembers() if member.isfile()}
    egg_info = {
        f"bsk_conformance.egg-info/{name}"
        for name in ("PKG-INFO", "SOURCES.txt", "dependency_links.txt", "entry_points.txt", "requires.txt",
                     "top_level.txt")
    }
    expected = {path.as_posix() for path in _shipped()} | {"PKG-INFO", "README.md", "pyproject.toml", "setup.cfg"}
    assert sorted(names - expected - egg_info) == [], "in the sdist, but not a file of a shipped folder"
    assert sorted(expected - names) == [], "a file of a shipped folder the sdist left out"
    assert not any(name.startswith(("tests/", "bench/", "docs/")) for name in names)
    assert "fixtures/requirements/tokens.toml" in names and "reports/templates/report.css" in names
