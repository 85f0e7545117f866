"""The reports of real harness runs: schema-valid, and diffed across an honest and a faulty server.

Each run is a fresh ``pytest --pyargs suites`` process against the bundled
reference server in-process, exactly as a user starts it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from bsk_conformance import reports
from tests.harness_command import INSTALLED_SUITES, harness_command

HERE = Path(__file__).resolve().parent


def _run(report_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    }
    return subprocess.run(
        harness_command(*args, suites=INSTALLED_SUITES, report_dir=report_dir),
        cwd=report_dir.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    report_dir = tmp_path_factory.mktemp("honest") / "conformance-report"
    done = _run(report_dir)
    assert (report_dir / "conformance.json").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return report_dir


def test_a_real_run_writes_all_three_formats_and_the_json_is_schema_valid(honest: Path) -> None:
    result = json.loads((honest / "conformance.json").read_text(encoding="utf-8"))
    schema = json.loads(reports.schema_path().read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(result)
    assert result["requirements"] and any(c["evidence"] for r in result["requirements"] for c in r["checks"])

    cases = list(ET.parse(honest / "junit.xml").getroot().iter("testcase"))
    assert len(cases) >= len(result["requirements"])
    assert {case.get("classname") for case in cases} == {r["id"] for r in result["requirements"]}

    page = (honest / "conformance.html").read_text(encoding="utf-8")
    assert f'data-verdict="{result["verdict"]}"' in page
    assert "${BSK_PASSWORD}" in page  # the login exchanges' curl commands


def test_diff_flags_the_regression_of_a_faulty_server(honest: Path, tmp_path: Path) -> None:
    faulty_dir = tmp_path / "conformance-report"
    _run(faulty_dir, "--reference-factory", "faulty_login_app:create")
    faulty = json.loads((faulty_dir / "conformance.json").read_text(encoding="utf-8"))
    assert next(r for r in faulty["requirements"] if r["id"] == "BSK-TOK-001")["status"] == "failed"

    baseline = json.loads((honest / "conformance.json").read_text(encoding="utf-8"))
    assert next(r for r in baseline["requirements"] if r["id"] == "BSK-TOK-001")["status"] == "passed"

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bsk_conformance.reports",
            "diff",
            "--json",
            str(honest / "conformance.json"),
            str(faulty_dir / "conformance.json"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stderr
    regressions = {(c["id"], c["old"], c["new"]) for c in json.loads(done.stdout)["regressions"]}
    assert ("BSK-TOK-001", "passed", "failed") in regressions
