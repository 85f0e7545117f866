"""The model-based run where the target's time cannot be moved: it waits out a
login throttle only by moving the target's clock, never by sleeping, so with
--clock off, and with --clock real even under a budget of a day, it sends no
failed logins (a throttle they met could not be waited out) and leaves out the
operations that move time. Their requirements are not verified, with the reason,
never passed; nothing is in error (the accounts were left as found); and the run
ends in seconds, not after an hour's Retry-After or a 900 s token life slept.

Real harness runs of the model's checks alone (`-m model_run`) against the
in-process reference server."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from bsk_conformance.harness.clock import OffClockStrategy, RealClockStrategy
from bsk_conformance.suites._lockout import LONGEST_LOCK, Lockouts
from bsk_conformance.suites._model_machine import BY_FAILED_LOGINS, BY_MOVING_TIME, ModelRun
CLOCKS = {
    "off": ("--clock", "off"),
    # a budget that would allow a day of sleeping: the model run must not take it
    "real with a day's budget": ("--clock", "real", "--real-time-budget", "90000"),
}


def _model_checks(run) -> dict[str, list[dict]]:
    """The model run's checks by requirement id."""
    checks: dict[str, list[dict]] = {}
    for requirement in run.result["requirements"]:
        for check in requirement["checks"]:
            if "test_model_run.py" in check["nodeid"]:
                checks.setdefault(requirement["id"], []).append(check)
    return checks


@pytest.mark.parametrize("clock", sorted(CLOCKS))
def test_without_moving_time_the_model_run_judges_no_failed_login_and_sleeps_never(run_harness, clock):
    # timeout: the run takes seconds; sleeping out a throttle's hour would end it in a TimeoutExpired
    run = run_harness("-m", "model_run", *CLOCKS[clock], timeout=300)
    checks = _model_checks(run)
    assert checks, run.output[-3000:]
    outcomes = {check["outcome"] for rid_checks in checks.values() for check in rid_checks}
    assert outcomes <= {"passed", "not_verified"}, run.output[-3000:]
    for rid in BY_FAILED_LOGINS:
        (check,) = checks[rid]
        assert check["outcome"] == "not_verified", (rid, check)
        assert "sends no failed logins" in check["message"], (rid, check["message"])
    for rid in BY_MOVING_TIME:
        (check,) = checks[rid]
        assert check["outcome"] == "not_verified", (rid, check)
        assert "never slept" in check["message"], (rid, check["message"])
    statuses = {r["id"]: r["status"] for r in run.result["requirements"]}
    for rid in (*BY_FAILED_LOGINS, *BY_MOVING_TIME):
        # left out by the run's clock: supplementary, but with no fixed check run beside it
        # (-m model_run: they are left out, so the requirement is not run whole), nothing
        # verified the requirement: never passed
        (check,) = checks[rid]
        assert check.get("supplementary") is True, (rid, check)
        assert statuses[rid] in ("not_verified", "skipped"), (rid, statuses[rid])
    # what the clock did not leave out is never supplementary
    assert not [rid for rid, rid_checks in checks.items() if rid not in (*BY_FAILED_LOGINS, *BY_MOVING_TIME)
                and any(c.get("supplementary") for c in rid_checks)]
    # the rest of the run was judged: most of its requirements passed
    passed = [rid for rid, rid_checks in checks.items() if all(c["outcome"] == "passed" for c in rid_checks)]
    assert len(passed) >= 40, passed
    assert run.result["durationSeconds"] < 120, run.result["durationSeconds"]


# -- the decision itself, on the clock strategies the harness has ---------------------------


class _Moved:
    """A target clock that records its moves (the control clock's answers, without a target)."""

    name = "control"
    tolerance = 1.0

    def __init__(self) -> None:
        self.moves: list[float] = []

    def can_advance(self, seconds: float) -> bool:
        return True

    def advance(self, seconds: float) -> None:
        self.moves.append(seconds)


def _run_on(clock) -> ModelRun:
    run = ModelRun(target=None, clock=clock, registry=None, accounts=(None, None), examples=0, steps=0)
    run.lockouts = Lockouts(None, clock, None)
    return run


def _throttled(retry_after: str) -> httpx.Response:
    return httpx.Response(429, headers={"Retry-After": retry_after})


def test_a_throttle_is_waited_out_by_moving_the_target_clock_within_a_day():
    clock = _Moved()
    run = _run_on(clock)
    assert run.can_wait_out_throttles()
    assert run.wait_out(_throttled("3600"))
    assert clock.moves == [3600 + clock.tolerance + 1]


def test_a_throttle_longer_than_a_day_is_not_waited_out_and_the_clock_stays():
    clock = _Moved()
    run = _run_on(clock)
    assert not run.wait_out(_throttled(str(LONGEST_LOCK + 1)))
    assert clock.moves == []


def test_the_real_clock_never_waits_out_a_throttle_whatever_its_budget():
    def sleep(seconds: float) -> None:
        raise AssertionError(f"the model run slept {seconds} s")

    run = _run_on(RealClockStrategy(budget=10 * LONGEST_LOCK, sleep=sleep))
    assert not run.can_wait_out_throttles()
    assert not run.can_move(1)
    assert not run.wait_out(_throttled("60"))


def test_a_clock_that_cannot_move_sends_no_failed_logins():
    run = _run_on(OffClockStrategy())
    assert not run.can_wait_out_throttles() and not run.wait_out(_throttled("60"))


# -- a throttle no clock move may wait out -------------------------------------------------


def locks_for_two_days(settings, clock):
    """The reference server, but one failed login locks the account for two days: longer
    than the day the harness moves the clock to wait out a lock (suites/_lockout.py)."""
    from bsk_conformance.reference_server import create_app

    return create_app(dataclasses.replace(settings, login_throttle_threshold=1, login_throttle_window=172_800.0),
                      clock=clock)


def test_a_lock_the_clock_may_not_wait_out_halts_the_run_and_nothing_passes(run_harness):
    run = run_harness("-m", "model_run", "--reference-factory",
                      "tests.harness.test_model_run_without_moving_time:locks_for_two_days", timeout=300)
    checks = [check for rid_checks in _model_checks(run).values() for check in rid_checks]
    assert checks, run.output[-3000:]
    # the account stays locked for two days: the run says it could not leave it as found, on every check
    assert {check["outcome"] for check in checks} == {"error"}, run.output[-3000:]
    assert all("still throttled" in check["message"] for check in checks), checks[0]["message"]
    assert run.result["durationSeconds"] < 120, run.result["durationSeconds"]
    assert run.exit_code == 2, run.output[-3000:]
