"""Folding check outcomes into requirement statuses, the verdict and the exit code."""

import pytest

from bsk_conformance.harness.verdicts import exit_code, requirement_status, run_verdict


@pytest.mark.parametrize(
    ("level", "outcomes", "status"),
    [
        ("MUST", ["passed", "passed"], "passed"),
        ("MUST", ["passed", "failed"], "failed"),
        ("SHOULD", ["failed"], "warning"),
        ("MAY", ["failed"], "warning"),
        ("MUST", ["passed", "error"], "error"),
        ("MUST", ["failed", "error"], "failed"),
        ("MUST", ["passed", "not_verified"], "not_verified"),
        ("MUST", [], "skipped"),
        ("MUST", ["skipped"], "skipped"),
        # not run whole: never passed, whatever its other checks showed
        ("MUST", ["passed", "skipped"], "skipped"),
        ("MUST", ["not_verified", "skipped"], "skipped"),
        ("MUST", ["skipped", "failed"], "failed"),
        ("SHOULD", ["skipped", "failed"], "warning"),
        ("MUST", ["skipped", "error"], "error"),
    ],
)
def test_requirement_status(level, outcomes, status):
    assert requirement_status(level, outcomes) == status


@pytest.mark.parametrize(
    ("pairs", "verdict"),
    [
        ([("MUST", "passed"), ("SHOULD", "warning")], "conformant"),
        ([("MUST", "passed"), ("MUST", "failed")], "non-conformant"),
        ([("MUST", "not_verified"), ("MUST", "failed")], "non-conformant"),
        ([("MUST", "not_verified")], "incomplete"),
        ([("MUST", "error")], "incomplete"),
        ([("SHOULD", "error"), ("MUST", "passed")], "conformant"),
        ([("MUST", "skipped"), ("MUST", "passed")], "conformant"),
    ],
)
def test_run_verdict(pairs, verdict):
    assert run_verdict(pairs) == verdict


def test_exit_codes():
    assert exit_code("conformant", warnings=0, strict=False) == 0
    assert exit_code("conformant", warnings=2, strict=False) == 0
    assert exit_code("conformant", warnings=2, strict=True) == 1
    assert exit_code("non-conformant", warnings=0, strict=False) == 1
    assert exit_code("incomplete", warnings=0, strict=False) == 2


def _catalogue(*requirements):
    from bsk_conformance.harness.requirements import Catalogue

    return Catalogue({r.id: r for r in requirements}, "sha256:test")


def _requirement(rid: str, verifiable: str = "any"):
    from bsk_conformance.harness.requirements import Requirement

    return Requirement(rid, "MUST", "4", "title", "sentence", "area", verifiable=verifiable)


def _result(catalogue, outcomes: dict[str, str], *, in_process: bool, environment: str = "test") -> dict:
    from bsk_conformance.harness.results import build_result

    checks = [
        {
            "nodeid": f"t::{rid}",
            "requirement": rid,
            "outcome": outcome,
            "message": "why",
            "durationSeconds": 0.0,
            "evidence": [],
        }
        for rid, outcome in outcomes.items()
    ]
    return build_result(
        catalogue,
        checks,
        harness_version="0",
        contract_version="1",
        target="t",
        environment=environment,
        clock="frozen",
        started=0.0,
        duration=0.0,
        in_process=in_process,
    )


def test_a_must_no_remote_target_could_show_leaves_the_verdict_alone_but_stays_not_verified():
    catalogue = _catalogue(_requirement("BSK-A-001"), _requirement("BSK-A-002", "in-process"))
    result = _result(catalogue, {"BSK-A-001": "passed", "BSK-A-002": "not_verified"}, in_process=False)
    second = next(r for r in result["requirements"] if r["id"] == "BSK-A-002")
    assert second["status"] == "not_verified" and second["applicable"] is False
    assert result["verdict"] == "conformant" and result["summary"]["notVerified"] == 1


def test_the_same_must_not_verified_in_process_makes_the_run_incomplete():
    catalogue = _catalogue(_requirement("BSK-A-001"), _requirement("BSK-A-002", "in-process"))
    result = _result(catalogue, {"BSK-A-001": "passed", "BSK-A-002": "not_verified"}, in_process=True)
    assert result["verdict"] == "incomplete"


def test_a_live_rule_applies_to_live_targets_and_in_process_only():
    live_rule = _requirement("BSK-A-003", "live-or-in-process")
    assert live_rule.applies_to(in_process=True, environment="test")
    assert live_rule.applies_to(in_process=False, environment="live")
    assert not live_rule.applies_to(in_process=False, environment="test")
    catalogue = _catalogue(live_rule)
    assert (
        _result(catalogue, {"BSK-A-003": "not_verified"}, in_process=False, environment="live")["verdict"]
        == "incomplete"
    )
    assert _result(catalogue, {"BSK-A-003": "not_verified"}, in_process=False)["verdict"] == "conformant"


def test_an_inapplicable_requirement_that_failed_still_fails_the_run():
    catalogue = _catalogue(_requirement("BSK-A-002", "in-process"))
    assert _result(catalogue, {"BSK-A-002": "failed"}, in_process=False)["verdict"] == "non-conformant"
