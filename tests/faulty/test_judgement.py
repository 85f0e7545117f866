"""The detection judgement on made-up reports: what counts as caught, as a
stray flag, as a pass that the remote leg could not have earned, and as a
conformant latitude variant."""

from __future__ import annotations

from tests.faulty.judgement import Outcome, catalogue
from tests.faulty.latitude import Latitude
from tests.faulty.runner import Run
from tests.faulty.variant import Variant


def _factory(settings, clock):  # never called: the runs below are made up
    raise AssertionError


def _run(statuses: dict[str, str], verdict: str, exit_code: int, warnings: int = 0) -> Run:
    requirements = [{"id": rid, "status": status} for rid, status in statuses.items()]
    return Run(exit_code, {"verdict": verdict, "summary": {"warning": warnings}, "requirements": requirements}, "")


def test_a_caught_variant_is_ok_and_a_missed_one_is_not():
    variant = Variant("v", "rule", ("BSK-TOK-004",), _factory)
    caught = Outcome(variant, "remote", _run({"BSK-TOK-004": "failed"}, "non-conformant", 1), 1.0)
    missed = Outcome(variant, "remote", _run({"BSK-TOK-004": "passed"}, "conformant", 0), 1.0)
    assert caught.ok
    assert not missed.ok and "not flagged: BSK-TOK-004" in missed.problems()


def test_remotely_an_in_process_only_trip_must_be_not_verified_never_passed():
    assert catalogue()["BSK-SEC-004"].verifiable == "in-process"
    variant = Variant("v", "rule", ("BSK-SEC-004",), _factory)
    honest_answer = Outcome(variant, "remote", _run({"BSK-SEC-004": "not_verified"}, "conformant", 0), 1.0)
    passed = Outcome(variant, "remote", _run({"BSK-SEC-004": "passed"}, "conformant", 0), 1.0)
    assert honest_answer.ok and honest_answer.unshowable == {"BSK-SEC-004"}
    assert not passed.ok and passed.passed_unshowable == {"BSK-SEC-004"}
    # in-process the same requirement must be flagged
    assert not Outcome(variant, "in-process", _run({"BSK-SEC-004": "not_verified"}, "conformant", 0), 1.0).ok


def test_flags_outside_the_radius_are_stray_and_the_remote_radius_counts_only_remotely():
    variant = Variant("v", "rule", ("BSK-TOK-004",), _factory, remote_blast={"BSK-TOK-003": "shares the clock"})
    statuses = {"BSK-TOK-004": "failed", "BSK-TOK-003": "failed"}
    assert Outcome(variant, "remote", _run(statuses, "non-conformant", 1), 1.0).ok
    in_process = Outcome(variant, "in-process", _run(statuses, "non-conformant", 1), 1.0)
    assert in_process.stray == {"BSK-TOK-003"} and not in_process.ok


def test_a_latitude_variant_must_be_conformant_and_warned_only_as_declared():
    should = next(r.id for r in catalogue().active() if r.level == "SHOULD")
    latitude = Latitude("l", "a latitude", _factory, warns={should: "it really breaks it"})
    assert Outcome(latitude, "remote", _run({should: "warning"}, "conformant", 0, 1), 1.0).ok
    undeclared = Latitude("l", "a latitude", _factory)
    assert not Outcome(undeclared, "remote", _run({should: "warning"}, "conformant", 0, 1), 1.0).ok
    assert not Outcome(undeclared, "remote", _run({"BSK-TOK-004": "error"}, "incomplete", 2), 1.0).ok


def test_a_declared_warning_the_catalogue_still_makes_a_must_is_pending_not_passed():
    must = "BSK-TOK-004"
    latitude = Latitude("l", "a latitude", _factory, warns={must: "a SHOULD in the contract"})
    outcome = Outcome(latitude, "remote", _run({must: "failed"}, "non-conformant", 1), 1.0)
    assert outcome.pending == {must} and outcome.ok
    other = Outcome(latitude, "remote", _run({must: "failed", "BSK-TOK-003": "failed"}, "non-conformant", 1), 1.0)
    assert not other.ok


def test_a_partial_run_is_judged_by_the_verdict_of_what_ran():
    """A variant's run selects its areas (-m): partial, with the verdict of what ran."""
    variant = Variant("v", "rule", ("BSK-TOK-004",), _factory)

    def partial(status: str, of_run: str, code: int) -> Run:
        run = _run({"BSK-TOK-004": status, "BSK-TOK-001": "skipped"}, "partial", code)
        run.result["completeness"] = {"verdictOfRun": of_run}
        return run

    assert Outcome(variant, "remote", partial("failed", "non-conformant", 1), 1.0).ok
    wrong_code = Outcome(variant, "remote", partial("failed", "non-conformant", 0), 1.0)
    assert not wrong_code.ok and "verdict non-conformant (exit 0)" in wrong_code.problems()
