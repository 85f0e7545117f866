"""How the end of a check's phase becomes its outcome: a broken precondition
and a failed cleanup are the target's doing but never the rule's verdict, and
only a real harness bug reads "harness problem"."""

from __future__ import annotations

import httpx
import pytest

from bsk_conformance.harness import CheckFailed, CleanupFailed, PreconditionFailed
from bsk_conformance.harness.evidence import Redactor
from bsk_conformance.harness.results import fold_phase, phase_outcome


def _answer(status: int, body: str) -> httpx.Response:
    return httpx.Response(status, text=body, request=httpx.Request("POST", "http://127.0.0.1/auth/refresh"))


def _phase(when: str, raise_it) -> dict:
    call = pytest.CallInfo.from_call(raise_it, when=when)
    return phase_outcome(call, Redactor(b"k" * 32))


def _raises(error: BaseException):
    def run() -> None:
        raise error

    return run


def test_a_broken_precondition_is_an_error_naming_the_targets_answer():
    refused = PreconditionFailed("the target refused a fresh refresh token", _answer(401, '{"error":"invalid_token"}'))
    phase = _phase("call", _raises(refused))
    assert phase["outcome"] == "error"
    assert phase["message"] == (
        'precondition failed: the target refused a fresh refresh token: HTTP 401 {"error":"invalid_token"}'
    )


def test_a_broken_precondition_in_setup_reads_the_same():
    phase = _phase("setup", _raises(PreconditionFailed("the target's 2FA setup answered no secret")))
    assert phase["outcome"] == "error"
    assert phase["message"] == "precondition failed: the target's 2FA setup answered no secret"


@pytest.mark.parametrize("when", ["call", "teardown"])
def test_a_failed_cleanup_is_reported_as_such_never_as_a_failure(when):
    phase = _phase(when, _raises(CleanupFailed("the target refused to turn 2FA off again: HTTP 400")))
    assert phase["outcome"] == "error"
    assert phase["message"] == "cleanup failed: the target refused to turn 2FA off again: HTTP 400"


def test_a_cleanup_raised_over_a_failed_check_keeps_the_checks_verdict():
    def check_then_cleanup() -> None:
        try:
            raise CheckFailed("login without a code: expected HTTP 401; observed HTTP 200")
        finally:
            raise CleanupFailed("the target refused to turn 2FA off again: HTTP 400")

    phase = _phase("call", check_then_cleanup)
    assert phase["outcome"] == "failed"
    assert phase["message"].startswith("login without a code: expected HTTP 401; observed HTTP 200")
    assert "also: cleanup failed: the target refused to turn 2FA off again" in phase["message"]


def test_a_cleanup_in_teardown_after_a_passed_call_makes_the_check_an_error_that_says_cleanup():
    phases = [
        _phase("setup", lambda: None),
        _phase("call", lambda: None),
        _phase("teardown", _raises(CleanupFailed("could not delete what the check created: HTTP 500"))),
    ]
    record = fold_phase("suites/test_x.py::test_y", "BSK-X-001", phases, [])
    assert record["outcome"] == "error"
    assert record["message"].startswith("cleanup failed: could not delete")


def test_a_cleanup_failure_does_not_hide_the_checks_own_failure():
    phases = [
        _phase("call", _raises(CheckFailed("expected HTTP 401; observed HTTP 200"))),
        _phase("teardown", _raises(CleanupFailed("could not delete what the check created: HTTP 500"))),
    ]
    record = fold_phase("suites/test_x.py::test_y", "BSK-X-001", phases, [])
    assert record["outcome"] == "failed"
    assert "expected HTTP 401" in record["message"] and "cleanup failed" in record["message"]


def test_a_check_assertion_is_a_failure():
    phase = _phase("call", _raises(CheckFailed("expected HTTP 401; observed HTTP 200")))
    assert (phase["outcome"], phase["message"]) == ("failed", "expected HTTP 401; observed HTTP 200")


@pytest.mark.parametrize("when", ["setup", "call", "teardown"])
def test_a_real_harness_bug_still_reads_harness_problem(when):
    phase = _phase(when, _raises(KeyError("accessToken")))
    assert phase["outcome"] == "error"
    assert phase["message"] == "harness problem: KeyError: 'accessToken'"


def test_the_typed_ends_are_not_assertions():
    # an AssertionError in the call phase is read as the rule broken: these must never be
    assert not issubclass(PreconditionFailed, AssertionError)
    assert not issubclass(CleanupFailed, AssertionError)
