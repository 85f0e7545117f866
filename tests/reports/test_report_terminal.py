"""The end-of-run lines the harness prints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthetic_results import envelope, requirement, without

from bsk_conformance import reports
PATHS = {
    "json": Path("conformance-report/conformance.json"),
    "html": Path("conformance-report/conformance.html"),
    "junit": Path("conformance-report/junit.xml"),
}


def test_the_verdict_is_the_last_line(result: dict[str, Any]) -> None:
    whole = without(result, "BSK-CLK-002")  # the one requirement left out: without it the run is whole
    lines = reports.terminal_summary(whole, PATHS)
    assert lines[-1] == "verdict: NON-CONFORMANT"


def test_counts_failed_must_ids_and_paths(result: dict[str, Any]) -> None:
    lines = reports.terminal_summary(result, PATHS)
    text = "\n".join(lines)
    assert "by status: 3 passed, 1 skipped, 2 not verified, 1 warning, 1 error, 1 failed" in text
    assert "Failed MUST (1): BSK-TOK-002" in lines
    assert "MUST not verified or in error (3): BSK-ORG-001, BSK-RL-001, BSK-TOK-003" in lines
    assert "Warnings, SHOULD/MAY (1): BSK-TOK-010" in lines
    assert "HTML report: conformance-report/conformance.html" in lines
    assert "JSON report: conformance-report/conformance.json" in lines
    assert "JUnit report: conformance-report/junit.xml" in lines
    assert all("\x1b" not in line for line in lines)


def test_a_conformant_run_lists_no_failures() -> None:
    result = envelope([requirement("BSK-TOK-001", "passed")])
    lines = reports.terminal_summary(result, {"json": Path("c.json")})
    assert lines[-1] == "verdict: CONFORMANT"
    assert not any(line.startswith("Failed MUST") for line in lines)
    assert "JSON report: c.json" in lines


def test_every_failed_must_id_is_listed_even_when_there_are_many() -> None:
    ids = [f"BSK-GEN-{i:03d}" for i in range(40)]
    result = envelope([requirement(i, "failed") for i in ids])
    lines = reports.terminal_summary(result, PATHS)
    listed = " ".join(lines)
    assert all(i in listed for i in ids)
    assert all(len(line) <= 100 for line in lines[:-4])
