"""A run that left requirements out is partial: never conformant, in every
output, whatever did the selecting; its exit code is what the verdict of the
checks it ran would give (pytest users select on purpose)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bsk_conformance.harness.requirements import Catalogue, Requirement
from bsk_conformance.harness.results import build_result


@pytest.mark.parametrize(
    "selection",
    [("-k", "oversized"), ("-m", "must"), ("--requirement", "BSK-TOK-002"), ("--deselect",
     "suites/test_token_lifetimes.py::test_access_token_exp_is_iat_plus_900")],
    ids=["-k", "-m must", "--requirement", "--deselect"],
)
def test_a_selection_is_partial_and_exits_0_when_what_ran_held(run_harness, selection):
    run = run_harness(*selection)
    assert run.exit_code == 0, run.output[-3000:]
    result = run.result
    completeness = result["completeness"]
    assert result["verdict"] == "partial" and completeness["verdictOfRun"] == "conformant", completeness
    run_count, total = completeness["requirementsRun"], completeness["requirementsTotal"]
    assert 0 < run_count < total and len(completeness["leftOut"]) == total - run_count
    assert "verdict: PARTIAL" in run.output and "CONFORMANT\n" not in run.output.replace("NON-CONFORMANT", "")
    assert f"{run_count} of {total} requirements run" in run.output
    # a certification is a whole run: bundle refuses this one, in one line, and writes nothing
    archive = run.report_dir.parent / "cert.zip"
    bundled = subprocess.run(
        [sys.executable, "-m", "bsk_conformance.console", "bundle", str(run.report_dir), "-o", str(archive)],
        capture_output=True, text=True, timeout=120,
    )
    assert bundled.returncode != 0 and not archive.exists(), bundled.stdout + bundled.stderr
    lines = (bundled.stdout + bundled.stderr).strip().splitlines()
    assert len(lines) == 1 and "partial" in lines[0] and "Traceback" not in lines[0], lines


def test_a_requirement_with_one_check_deselected_is_not_passed(run_harness):
    """BSK-SEC-001 has two checks; with one of them left out it is not run
    whole, so it is skipped (never passed on the strength of the other)."""
    run = run_harness(
        "--requirement", "BSK-SEC-001",
        "--deselect", "suites/test_secret_hygiene.py::test_access_token_in_the_query_string_does_not_authenticate[/me]",
    )
    assert run.exit_code == 0, run.output[-3000:]
    [entry] = [r for r in run.result["requirements"] if r["id"] == "BSK-SEC-001"]
    outcomes = sorted(c["outcome"] for c in entry["checks"])
    assert outcomes == ["passed", "skipped"], entry["checks"]
    assert entry["status"] == "skipped" and "1 of its 2 checks ran" in entry["reason"], entry["reason"]


def _catalogue(index: dict[str, tuple[str, ...]]) -> Catalogue:
    catalogue = Catalogue()
    for rid in ("BSK-A-001", "BSK-A-002"):
        catalogue.requirements[rid] = Requirement(rid, "MUST", "3", "t", "s", "a")
    catalogue.checks = index
    return catalogue


def _record(name: str, rid: str, outcome: str) -> dict:
    return {"nodeid": name, "requirement": rid, "outcome": outcome, "message": None, "durationSeconds": 0.1,
            "evidence": []}


def _result(catalogue: Catalogue, checks: list[dict], interruption: dict | None = None) -> dict:
    return build_result(catalogue, checks, harness_version="t", contract_version="1.1", target="t",
                        environment="test", clock="frozen", started=0.0, duration=1.0, interruption=interruption)


def test_the_index_decides_what_a_whole_run_is():
    catalogue = _catalogue({"BSK-A-001": ("a1", "a2"), "BSK-A-002": ("b1",)})
    whole = _result(catalogue, [_record("a1", "BSK-A-001", "passed"), _record("a2", "BSK-A-001", "passed"),
                                _record("b1", "BSK-A-002", "passed")])
    assert whole["verdict"] == "conformant" and whole["completeness"]["leftOut"] == []
    half = _result(catalogue, [_record("a1", "BSK-A-001", "passed"), _record("b1", "BSK-A-002", "passed")])
    assert half["verdict"] == "partial" and half["completeness"]["leftOut"] == ["BSK-A-001"]
    [entry] = [r for r in half["requirements"] if r["id"] == "BSK-A-001"]
    assert entry["status"] == "skipped" and [c["outcome"] for c in entry["checks"]] == ["passed", "skipped"]
    # a rule shown broken is broken, whatever else did not run
    broken = _result(catalogue, [_record("a1", "BSK-A-001", "failed")])
    assert broken["verdict"] == "partial" and broken["completeness"]["verdictOfRun"] == "non-conformant"


def test_an_interrupted_run_says_so_and_names_what_did_not_run():
    catalogue = _catalogue({"BSK-A-001": ("a1",), "BSK-A-002": ("b1",)})
    interruption = {"cause": "SIGTERM", "message": "interrupted by SIGTERM during a1", "check": "a1",
                    "cleanup": "complete"}
    result = _result(catalogue, [_record("a1", "BSK-A-001", "error")], interruption)
    assert result["verdict"] == "interrupted" and result["interruption"] == interruption
    [entry] = [r for r in result["requirements"] if r["id"] == "BSK-A-002"]
    assert entry["checks"][0]["message"] == "not run: the run was interrupted by SIGTERM during a1"
