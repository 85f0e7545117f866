"""docs/writing-checks.md's worked example runs as written: its requirement
loads into the catalogue, its check passes against the reference server and
fails against its faulty variant, in-process and served over HTTP."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from bsk_conformance.harness.requirements import default_directory, load_catalogue
from tests.faulty.remote import PROFILE, served

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "writing-checks.md"
EXAMPLE_ID = "BSK-EXAMPLE-001"
# a fenced block whose first line names the file it belongs in
BLOCK = re.compile(r"```(?:toml|python)\n# (?P<path>[\w/.]+)\n(?P<body>.*?)```", re.S)


def _blocks() -> dict[str, str]:
    return {m["path"]: m["body"] for m in BLOCK.finditer(DOC.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Path:
    """The shipped catalogue plus the example's file; the check and the variant beside it."""
    blocks = _blocks()
    assert {"fixtures/requirements/example.toml", "suites/test_example.py",
            "tests/faulty/variants/example.py"} <= set(blocks), sorted(blocks)
    root = tmp_path_factory.mktemp("writing-checks")
    catalogue = root / "requirements"
    shutil.copytree(default_directory(), catalogue)
    (catalogue / "example.toml").write_text(blocks["fixtures/requirements/example.toml"])
    (root / "test_example.py").write_text(blocks["suites/test_example.py"])
    (root / "example_variant.py").write_text(
        blocks["tests/faulty/variants/example.py"] + "\ndeleted_key_still_accepted = VARIANTS[0].factory\n"
    )
    (root / "pytest.ini").write_text("[pytest]\n")
    return root


def _variant(staged: Path):
    module = types.ModuleType("example_variant")
    exec(compile((staged / "example_variant.py").read_text(), "example_variant.py", "exec"), module.__dict__)
    return module.VARIANTS[0]


def _status(staged: Path, *options: str) -> str:
    report = staged / "report"
    shutil.rmtree(report, ignore_errors=True)
    env = {**os.environ, "BSK_STAGED_CATALOGUE": str(staged / "requirements"),
           "PYTHONPATH": os.pathsep.join([str(staged), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "pytest", str(staged / "test_example.py"), "-q", "-p", "no:cacheprovider",
               "-p", "tests.docs.staged_catalogue", "-c", str(staged / "pytest.ini"), "--rootdir", str(staged),
               "--requirement", EXAMPLE_ID, "--report-dir", str(report), *options]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    result_file = report / "conformance.json"
    assert result_file.exists(), (done.stdout + done.stderr)[-3000:]
    statuses = {r["id"]: r["status"] for r in json.loads(result_file.read_text())["requirements"]}
    return statuses[EXAMPLE_ID]


def test_the_example_requirement_loads_into_the_catalogue(staged):
    catalogue = load_catalogue(staged / "requirements")
    assert catalogue[EXAMPLE_ID].area == "example" and catalogue[EXAMPLE_ID].level == "MUST"


def test_the_example_variant_trips_the_example_requirement(staged):
    variant = _variant(staged)
    assert variant.trips == (EXAMPLE_ID,)
    assert set(variant.blast) <= set(load_catalogue().requirements)  # its blast radius names shipped IDs


def test_the_example_check_passes_in_process(staged):
    assert _status(staged) == "passed"


def test_the_example_check_catches_its_variant_in_process(staged):
    assert _status(staged, "--reference-factory", "example_variant:deleted_key_still_accepted") == "failed"


@pytest.mark.parametrize("faulty", [False, True], ids=["honest", "variant"])
def test_the_example_check_judges_a_remote_target(staged, faulty):
    with served(_variant(staged).factory if faulty else None) as url:
        status = _status(staged, "--target", url, "--target-profile", str(PROFILE))
    assert status == ("failed" if faulty else "passed")
