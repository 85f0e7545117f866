"""The project carries its spec, and its docs say what the code does (issue 9)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bsk_conformance import CONTRACT_VERSION
from bsk_conformance.harness.requirements import load_catalogue

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "bench").glob("*.md"))]


def test_no_link_leaves_the_repository() -> None:
    """Someone who clones or installs the project has no ../shared beside it."""
    outside = []
    for path in _markdown_files():
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            resolved = (path.parent / target).resolve()
            if ROOT.resolve() not in resolved.parents and resolved != ROOT.resolve():
                outside.append(f"{path.relative_to(ROOT)}: {target}")
            elif not resolved.exists():
                outside.append(f"{path.relative_to(ROOT)}: {target} (missing)")
    assert not outside, outside


def test_the_readme_links_the_spec_and_the_requirements() -> None:
    readme = ROOT.joinpath("README.md").read_text(encoding="utf-8")
    assert "](docs/spec.md)" in readme and "](docs/requirements.md)" in readme


def test_the_spec_is_the_version_the_harness_certifies() -> None:
    spec = ROOT.joinpath("docs", "spec.md").read_text(encoding="utf-8")
    assert re.search(rf"\bv?{re.escape(CONTRACT_VERSION)}\b", spec.split("\n## ", 1)[0])


def test_every_section_a_requirement_cites_is_in_the_spec() -> None:
    spec = ROOT.joinpath("docs", "spec.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## (\d+)\.", spec, flags=re.M))
    cited = {r.section.split(".")[0] for r in load_catalogue().active()}
    assert cited <= headings, sorted(cited - headings)


def test_requirements_md_is_fresh() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.docs.requirements_doc", "--check", "docs/requirements.md"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_check_index_is_fresh() -> None:
    """fixtures/check-index.json is what a run compares its records with to tell
    a whole run from a partial one: it must list exactly the shipped checks."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.docs.check_index", "--check", "fixtures/check-index.json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
