"""The verdict of a run that is not whole: completeness_of and overall_verdict (reports/verdict_rules.py)."""

from __future__ import annotations

from typing import Any

import pytest

from bsk_conformance.reports.verdict_rules import (
    completeness_of,
    counted_outcomes,
    overall_verdict,
    requirement_status,
    verdict_of,
)

SIGTERM = {"cause": "SIGTERM", "message": "interrupted by SIGTERM", "check": None, "cleanup": "complete"}


def req(req_id: str, status: str, level: str = "MUST", **extra: Any) -> dict[str, Any]:
    return {"id": req_id, "level": level, "status": status, **extra}


def test_completeness_counts_what_ran_and_lists_what_was_left_out_sorted() -> None:
    requirements = [req("BSK-B-002", "skipped"), req("BSK-A-001", "passed"), req("BSK-A-003", "skipped")]
    assert completeness_of(requirements) == {
        "requirementsRun": 1,
        "requirementsTotal": 3,
        "leftOut": ["BSK-A-003", "BSK-B-002"],
        "verdictOfRun": "conformant",
    }


def test_the_verdict_of_what_ran_keeps_a_failure_seen_before_the_run_stopped() -> None:
    requirements = [req("BSK-A-001", "failed"), req("BSK-A-002", "skipped")]
    assert completeness_of(requirements)["verdictOfRun"] == "non-conformant"
    assert overall_verdict(requirements, None) == "partial"
    assert overall_verdict(requirements, SIGTERM) == "interrupted"


@pytest.mark.parametrize(
    ("statuses", "interruption", "verdict"),
    [
        (["passed", "passed"], None, "conformant"),
        (["passed", "failed"], None, "non-conformant"),
        (["passed", "not_verified"], None, "incomplete"),
        (["passed", "skipped"], None, "partial"),
        (["failed", "skipped"], None, "partial"),
        # interrupted wins, even when every requirement had ended by then
        (["passed", "passed"], SIGTERM, "interrupted"),
        (["passed", "skipped"], SIGTERM, "interrupted"),
        ([], None, "conformant"),
    ],
)
def test_overall_verdict(statuses: list[str], interruption: dict[str, Any] | None, verdict: str) -> None:
    requirements = [req(f"BSK-A-{i:03d}", status) for i, status in enumerate(statuses)]
    assert overall_verdict(requirements, interruption) == verdict


def test_a_skipped_requirement_does_not_make_the_usual_verdict_incomplete() -> None:
    """verdict_of is unchanged: what was left out is the overall verdict's business, not the run's rules."""
    assert verdict_of([req("BSK-A-001", "passed"), req("BSK-A-002", "skipped")]) == "conformant"


def check(outcome: str, supplementary: bool = False) -> dict[str, Any]:
    marked = {"supplementary": True} if supplementary else {}
    return {"nodeid": f"suites/t.py::test_{outcome}", "outcome": outcome, **marked}


@pytest.mark.parametrize(
    ("checks", "status"),
    [
        # a fixed check passed; the model run's check, left out by the run's clock, adds nothing
        ([check("passed"), check("not_verified", supplementary=True)], "passed"),
        # nothing else verified it: the supplementary check counts like any other
        ([check("not_verified", supplementary=True)], "not_verified"),
        ([check("not_verified"), check("not_verified", supplementary=True)], "not_verified"),
        # a failure, an error or a check left out still decide
        ([check("failed"), check("not_verified", supplementary=True)], "failed"),
        ([check("passed"), check("error"), check("not_verified", supplementary=True)], "error"),
        ([check("passed"), check("skipped"), check("not_verified", supplementary=True)], "skipped"),
        # an ordinary not verified is never set aside
        ([check("passed"), check("not_verified")], "not_verified"),
        # a supplementary check that passed verifies nothing on its sibling's behalf
        ([check("passed", supplementary=True), check("not_verified", supplementary=True)], "not_verified"),
    ],
)
def test_a_supplementary_check_left_out_by_the_clock_holds_back_no_requirement_another_check_verified(
    checks: list[dict[str, Any]], status: str
) -> None:
    assert requirement_status("MUST", counted_outcomes(checks)) == status
