"""Real-time runs (no clock control): the run timeout fitted to the budget,
and the run's planned waiting, said before the first check.

A target without clock control is certified by waiting for real
(`RealClockStrategy`, harness/clock.py). Two things the user should know
before the run starts, not after it: that `--run-timeout` leaves room for the
`--real-time-budget` they asked for, and roughly how long the run will wait.
What each requirement waits is data, `fixtures/real-time-waits.toml`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Final

DATA_FILE: Final = "real-time-waits.toml"
#: What a real-time run keeps beside its budget for the checks that do not
#: wait: room for the whole catalogue's exchanges with a slow target.
RUN_TIMEOUT_MARGIN: Final = 300.0


#: The disturbances of a requirement whose waits may overlap on a real clock:
#: the clock alone (harness/phases.py puts its checks in the parallel phase).
OVERLAPPING_WAITS: Final = frozenset({"clock"})


class WaitsError(ValueError):
    """The wait table is invalid: one line, said as a usage error."""


def parse_waits(text: str, known: Container[str], source: str = DATA_FILE) -> dict[str, float]:
    """`{requirement ID: seconds}` from the TOML text; WaitsError on an unknown
    requirement ID or a value that is not a number of seconds, zero or more."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WaitsError(f"{source}: not valid TOML: {exc}") from None
    waits: dict[str, float] = {}
    for rid, seconds in document.items():
        if rid not in known:
            raise WaitsError(f"{source}: {rid}: unknown requirement ID (not in the catalogue)")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise WaitsError(f"{source}: {rid}: expected seconds (a number, zero or more), got {seconds!r}")
        waits[rid] = float(seconds)
    return waits


def load_waits(known: Container[str]) -> dict[str, float]:
    text = resources.files("bsk_conformance.fixtures").joinpath(DATA_FILE).read_text(encoding="utf-8")
    return parse_waits(text, known)


def may_wait(clock: str, remote: bool) -> bool:
    """Whether `--clock` can end up waiting in real time: `real`, or `auto`
    against a remote target (which gets real waiting when it has no clock
    control; the in-process server's clock is always moved directly)."""
    return clock == "real" or (clock == "auto" and remote)


def fitted_run_timeout(run_timeout: float, budget: float) -> tuple[float, str | None]:
    """The run timeout a real-time run gets, and the line that says it was raised.

    The rule (README, "Runs without clock control"): a budget that the run
    timeout cannot hold with `RUN_TIMEOUT_MARGIN` to spare raises the run
    timeout to budget + margin. Raised rather than refused: the budget is what
    the user asked to wait, a run cut by its timeout halfway through a wait
    ends those checks as errors and the rest unverified, and the default run
    timeout (900 s) is below every budget over ten minutes, so refusing would
    make every long real-time run spell out two flags whose agreement depends
    on a margin the user cannot see."""
    needed = budget + RUN_TIMEOUT_MARGIN
    if budget <= 0 or run_timeout >= needed:
        return run_timeout, None
    return needed, (
        f"--run-timeout raised from {run_timeout:g} s to {needed:g} s: --real-time-budget {budget:g} s "
        f"and {RUN_TIMEOUT_MARGIN:g} s for the checks that do not wait"
    )


@dataclass(frozen=True)
class RealTimePlan:
    """What a real-time run expects to wait, from the selected requirements."""

    budget: float
    # the waits that fit the budget, in run order, and their wall time
    waits: Mapping[str, float]
    overlapped: float
    # the requirements whose wait the budget cannot hold: not verified
    beyond: tuple[str, ...]

    @property
    def total(self) -> float:
        return sum(self.waits.values())

    def lines(self) -> list[str]:
        said = [
            f"real time: about {self.total:.0f} s of waiting, overlapped into about {self.overlapped:.0f} s "
            f"(--real-time-budget {self.budget:g} s, {len(self.waits)} requirement(s) that wait)"
        ]
        if self.beyond:
            said.append(
                f"real time: {len(self.beyond)} requirement(s) need more waiting than the budget leaves "
                f"once the ones before them have waited; expect them not verified: {', '.join(self.beyond)}"
            )
        return said


def plan(
    selected: Iterable[str],
    waits: Mapping[str, float],
    budget: float,
    workers: int = 1,
    overlapping: Container[str] = (),
) -> RealTimePlan:
    """The waits of the `selected` requirements (in run order) that the budget
    holds, and the wall time they take.

    Each process has its own RealClockStrategy, whose budget it spends first
    come, first served. The `overlapping` requirements (the clock their only
    disturbance: harness/phases.py) run in the parallel phase, each on the
    least busy of the `workers`; the others run one at a time in the serial
    phase after it, on one worker (the least busy, for the plan). In a run
    without -n everything is one worker, and the waits add up."""
    loads = [0.0] * max(workers, 1)
    fitted: dict[str, float] = {}
    beyond: list[str] = []
    later: list[str] = []
    for rid in selected:
        seconds = waits.get(rid, 0.0)
        if seconds <= 0:
            continue
        if rid not in overlapping:
            later.append(rid)
            continue
        worker = loads.index(min(loads))
        if loads[worker] + seconds <= budget:
            fitted[rid] = seconds
            loads[worker] += seconds
        else:
            beyond.append(rid)
    parallel_wall = max(loads)
    serial = loads.index(min(loads))
    for rid in later:
        seconds = waits[rid]
        if loads[serial] + seconds <= budget:
            fitted[rid] = seconds
            loads[serial] += seconds
        else:
            beyond.append(rid)
    serial_wall = sum(waits[rid] for rid in later if rid in fitted)
    order = {rid: n for n, rid in enumerate(dict.fromkeys(selected))}
    return RealTimePlan(budget, fitted, parallel_wall + serial_wall, tuple(sorted(beyond, key=order.__getitem__)))
