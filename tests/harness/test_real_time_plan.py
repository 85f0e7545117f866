"""Real-time runs: the run timeout fitted to --real-time-budget, and the
planned waiting said at the start (harness/real_time.py,
fixtures/real-time-waits.toml)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bsk_conformance.harness.disturbances import APART, LAST, PARALLEL, SERIAL, WAITING, load_disturbances
from bsk_conformance.harness.phases import phase_of
from bsk_conformance.harness.real_time import (
    OVERLAPPING_WAITS,
    RUN_TIMEOUT_MARGIN,
    Waits,
    WaitsError,
    fitted_run_timeout,
    load_waits,
    parse_waits,
    plan,
    waits_apart,
    waits_spread,
)
from bsk_conformance.harness.requirements import load_catalogue

CATALOGUE = load_catalogue()


def test_every_requirement_that_needs_the_clock_has_a_wait() -> None:
    declared = load_disturbances(CATALOGUE)
    clocked = {r.id for r in CATALOGUE.active() if "clock" in r.needs}
    clocked |= {rid for rid, kinds in declared.items() if "clock" in kinds}
    waits = load_waits(CATALOGUE)
    assert sorted(clocked - waits.keys()) == []
    # and nothing else: a wait for a requirement that never moves the clock would inflate the plan
    assert sorted(waits.keys() - clocked) == []


def test_the_wait_table_refuses_what_it_cannot_mean() -> None:
    with pytest.raises(WaitsError, match="BSK-NOPE-001: unknown requirement ID"):
        parse_waits("BSK-NOPE-001 = 3", CATALOGUE)
    with pytest.raises(WaitsError, match="BSK-TOK-003: expected seconds"):
        parse_waits("BSK-TOK-003 = -1", CATALOGUE)
    with pytest.raises(WaitsError, match="BSK-TOK-003: expected seconds"):
        parse_waits('BSK-TOK-003 = "15 min"', CATALOGUE)
    with pytest.raises(WaitsError, match='BSK-LEAK-002: expected { seconds = N, from = "run-start" }'):
        parse_waits('BSK-LEAK-002 = { seconds = 902, from = "the check" }', CATALOGUE)
    with pytest.raises(WaitsError, match="BSK-LEAK-002: expected seconds"):
        parse_waits('BSK-LEAK-002 = { seconds = -1, from = "run-start" }', CATALOGUE)
    parsed = parse_waits('BSK-LEAK-002 = { seconds = 902, from = "run-start" }\nBSK-TOK-003 = 902', CATALOGUE)
    assert parsed == {"BSK-LEAK-002": 902.0, "BSK-TOK-003": 902.0} and parsed.from_start == {"BSK-LEAK-002"}


def test_a_budget_the_run_timeout_cannot_hold_raises_it() -> None:
    assert fitted_run_timeout(900, 0) == (900, None)
    assert fitted_run_timeout(900, 900 - RUN_TIMEOUT_MARGIN) == (900, None)
    timeout, said = fitted_run_timeout(900, 1200)
    assert timeout == 1200 + RUN_TIMEOUT_MARGIN
    assert said == (
        f"--run-timeout raised from 900 s to {1200 + RUN_TIMEOUT_MARGIN:g} s: --real-time-budget 1200 s "
        f"and {RUN_TIMEOUT_MARGIN:g} s for the checks that do not wait"
    )


def test_the_plan_spends_the_budget_in_run_order() -> None:
    waits = {"BSK-TOK-003": 902.0, "BSK-RL-008": 63.0, "BSK-REF-004": 604802.0, "BSK-CLK-002": 0.0}
    made = plan(["BSK-RL-008", "BSK-CLK-002", "BSK-REF-004", "BSK-WIRE-001", "BSK-TOK-003"], waits, 1000)
    assert dict(made.waits) == {"BSK-RL-008": 63.0, "BSK-TOK-003": 902.0}
    assert made.beyond == ("BSK-REF-004",)
    assert made.total == 965
    # the waiting checks all move the clock, so they run one at a time: no overlap yet
    assert made.overlapped == made.total
    # a second long wait no longer fits once the first has spent the budget
    assert plan(["BSK-TOK-003", "BSK-TOK-004"], {"BSK-TOK-003": 902.0, "BSK-TOK-004": 902.0}, 1000).beyond == (
        "BSK-TOK-004",
    )


def test_the_start_of_a_real_time_run_says_what_it_will_wait(run_harness) -> None:
    """A budget above what the run timeout leaves: raised, said in one line,
    and the plan names what waits and what the budget cannot hold. A listing
    (--collect-only) runs no check, so nothing is waited for."""
    run = run_harness(
        "--clock", "real", "--real-time-budget", "1000",
        "--requirement", "BSK-TOK-003", "--requirement", "BSK-REF-004", "--requirement", "BSK-WIRE-001",
        "--collect-only",
    )  # fmt: skip
    assert run.exit_code == 0, run.output[-3000:]
    lines = [line for line in run.output.splitlines() if line.startswith("bsk-conformance: ")]
    assert lines == [
        "bsk-conformance: --run-timeout raised from 900 s to 1300 s: --real-time-budget 1000 s "
        "and 300 s for the checks that do not wait",
        "bsk-conformance: real time: about 902 s of waiting, overlapped into about 902 s "
        "(--real-time-budget 1000 s, 1 requirement(s) that wait)",
        "bsk-conformance: real time: 1 requirement(s) need more waiting than the budget leaves once the ones "
        "before them have waited; expect them not verified: BSK-REF-004",
    ], run.output[-3000:]


def test_a_raised_run_timeout_is_the_one_the_run_keeps(run_harness) -> None:
    """--run-timeout 0.001 has passed before the first check (collection alone
    takes longer): without a budget the checks are not run; with a budget it
    is raised, and they run and pass."""
    args = ("--clock", "real", "--run-timeout", "0.001", "--requirement", "BSK-WIRE-001")
    cut = run_harness(*args)
    assert cut.status("BSK-WIRE-001") == "not_verified", cut.output[-3000:]
    assert "--run-timeout raised" not in cut.output
    fitted = run_harness(*args, "--real-time-budget", "1")
    assert fitted.exit_code == 0, fitted.output[-3000:]
    assert fitted.status("BSK-WIRE-001") == "passed", fitted.output[-3000:]
    assert "bsk-conformance: --run-timeout raised from 0.001 s to 301 s" in fitted.output
    assert "bsk-conformance: real time: about 0 s of waiting, overlapped into about 0 s" in fitted.output


def test_a_budget_within_the_run_timeout_is_left_alone(run_harness) -> None:
    run = run_harness("--clock", "real", "--real-time-budget", "60", "--requirement", "BSK-WIRE-001")
    assert run.exit_code == 0, run.output[-3000:]
    assert "--run-timeout raised" not in run.output
    assert "bsk-conformance: real time: about 0 s of waiting, overlapped into about 0 s (--real-time-budget 60 s" in (
        run.output
    )


def test_a_parallel_run_says_its_plan_once(run_harness) -> None:
    """Under xdist the controller collects nothing: it says the plan from the
    catalogue, once, and no worker says it again."""
    run = run_harness("--clock", "real", "--real-time-budget", "1000", "--requirement", "BSK-WIRE-001", "-n", "2")
    assert run.exit_code == 0, run.output[-3000:]
    assert run.status("BSK-WIRE-001") == "passed", run.output[-3000:]
    assert run.output.count("bsk-conformance: real time: about 0 s of waiting") == 1, run.output[-3000:]
    assert run.output.count("bsk-conformance: --run-timeout raised") == 1, run.output[-3000:]


class _Check:
    """What phase_of reads of a collected check: its markers."""

    def __init__(self, rid: str, *marks: str) -> None:
        self._markers = {"requirement": pytest.mark.requirement(rid).mark}
        self._markers.update({name: SimpleNamespace(name=name, args=()) for name in marks})  # phase_of reads presence

    def get_closest_marker(self, name: str):
        return self._markers.get(name)


def test_on_a_real_clock_the_checks_that_only_wait_run_in_parallel() -> None:
    declared = load_disturbances(CATALOGUE)
    assert declared["BSK-TOK-003"] == OVERLAPPING_WAITS
    # a moved clock (frozen or /_test/clock) moves every other check's time: one at a time
    assert phase_of(_Check("BSK-TOK-003"), declared) == SERIAL
    # a real wait moves nobody's time but the passing of it: beside the others
    assert phase_of(_Check("BSK-TOK-003"), declared, real_clock=True) == PARALLEL
    # 2FA and throttles still disturb shared accounts, whatever the clock
    assert phase_of(_Check("BSK-TFA-003"), declared, real_clock=True) == SERIAL
    assert phase_of(_Check("BSK-RL-009"), declared, real_clock=True) == SERIAL
    assert phase_of(_Check("BSK-WIRE-001"), declared, real_clock=True) == PARALLEL


def test_waits_in_the_parallel_phase_overlap_instead_of_adding() -> None:
    waits = {"BSK-TOK-003": 902.0, "BSK-OBS-002": 902.0, "BSK-RL-008": 63.0, "BSK-TFA-003": 120.0}
    order = ["BSK-TOK-003", "BSK-OBS-002", "BSK-RL-008", "BSK-TFA-003"]
    overlapping = {"BSK-TOK-003", "BSK-OBS-002", "BSK-RL-008"}
    serial = plan(order, waits, 1200)
    assert serial.beyond == ("BSK-OBS-002",)  # one worker: the second 15-minute wait does not fit
    assert serial.overlapped == serial.total == 902 + 63 + 120
    two = plan(order, waits, 1200, workers=2, overlapping=overlapping)
    assert two.beyond == ()
    assert two.total == 902 + 902 + 63 + 120
    # both long waits at once (the short one after one of them), then the 2FA check alone
    assert two.overlapped == 902 + 63 + 120
    assert two.overlapped < two.total


def test_the_long_waits_that_only_move_the_clock_run_apart_on_a_real_clock() -> None:
    declared = load_disturbances(CATALOGUE)
    waits = load_waits(CATALOGUE)
    apart = waits_apart(waits, declared, 1200)
    # the access token's 15 minutes; not the 7-day waits (beyond the budget: not verified at once),
    # nor a wait counted from the run's start (BSK-LEAK-002, which runs last), nor a 2FA check's
    assert apart == {"BSK-TOK-003", "BSK-TOK-004", "BSK-OBS-002"}
    assert waits_apart(waits, declared, 600) == set()
    assert phase_of(_Check("BSK-TOK-003"), declared, real_clock=True, apart=apart) == APART
    assert phase_of(_Check("BSK-TOK-003"), declared, apart=apart) == SERIAL  # a moved clock: one at a time
    assert phase_of(_Check("BSK-LEAK-002", "runs_last"), declared, real_clock=True, apart=apart) == LAST
    assert phase_of(_Check("BSK-TFA-003"), declared, real_clock=True, apart=apart) == SERIAL


def test_the_shorter_waits_that_only_move_the_clock_are_spread_one_per_worker() -> None:
    declared = load_disturbances(CATALOGUE)
    waits = load_waits(CATALOGUE)
    spread = waits_spread(waits, declared, 1200)
    # the rate-limit windows and the key's expiry: not the long waits apart, not a 2FA check's or a lock's
    assert {"BSK-KEY-014", "BSK-RL-005", "BSK-RL-008", "BSK-RL-010", "BSK-OBS-006", "BSK-OBS-007"} <= spread
    assert not spread & {"BSK-TOK-003", "BSK-TFA-003", "BSK-RL-009", "BSK-LEAK-002"}
    assert all(10 <= waits[rid] < 300 for rid in spread)
    assert waits_spread(waits, declared, 30) == {rid for rid in spread if waits[rid] <= 30} != set()
    assert phase_of(_Check("BSK-RL-008"), declared, real_clock=True, waiting=spread) == WAITING
    assert phase_of(_Check("BSK-RL-008"), declared, waiting=spread) == SERIAL  # a moved clock: one at a time
    assert phase_of(_Check("BSK-WIRE-001"), declared, real_clock=True, waiting=spread) == PARALLEL


def test_the_budget_is_a_deadline_long_waits_apart_overlap_the_serial_phase() -> None:
    waits = Waits({"BSK-TOK-003": 902.0, "BSK-TOK-004": 902.0, "BSK-RL-008": 63.0, "BSK-TFA-003": 120.0,
                   "BSK-LEAK-002": 902.0}, from_start={"BSK-LEAK-002"})
    order = ["BSK-TOK-003", "BSK-TOK-004", "BSK-RL-008", "BSK-TFA-003", "BSK-LEAK-002"]
    overlapping = {"BSK-TOK-003", "BSK-TOK-004", "BSK-RL-008"}
    apart = {"BSK-TOK-003", "BSK-TOK-004"}
    four = plan(order, waits, 1200, workers=4, overlapping=overlapping, apart=apart)
    assert four.apart == ("BSK-TOK-003", "BSK-TOK-004")
    assert four.beyond == ()
    # the serial phase (63 s of parallel waiting, then the 2FA check) runs beside the long waits,
    # and the wait counted from the run's start ends with them: the run waits about the longest one
    assert four.overlapped == 902
    assert four.lines()[1] == (
        "real time: 2 long wait(s) each on a worker of its own, beside the rest of the run: BSK-TOK-003, BSK-TOK-004"
    )
    # with no worker to spare, the long waits share the parallel phase's workers
    two = plan(order, waits, 1200, workers=2, overlapping=overlapping, apart=apart)
    assert two.apart == () and two.overlapped == 902 + 63 + 120
    # one process: the waits add up, each must end within the budget of the start
    one = plan(order, waits, 1200)
    assert one.beyond == ("BSK-TOK-004",) and one.overlapped == 902 + 63 + 120
