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
#: A wait this long (an access token's 15 minutes) gets a worker of its own
#: under -n, beside the rest of the run and its serial phase (phase APART):
#: the run's wall time then approaches the longest wait, not the parallel
#: phase's waits followed by the serial phase's.
WAITS_APART_FROM: Final = 300.0
#: A shorter wait than that, but long enough to matter (a rate-limit window,
#: a key's expiry): its checks are handed out first, one per worker in turn.
WAITS_SPREAD_FROM: Final = 10.0


class WaitsError(ValueError):
    """The wait table is invalid: one line, said as a usage error."""


#: How a wait that ends a fixed time after the run's start is written.
FROM_RUN_START: Final = "run-start"


class Waits(dict[str, float]):
    """`{requirement ID: seconds}`, and which of them end `seconds` after the
    run's start rather than after whatever ran before them."""

    def __init__(self, waits: Mapping[str, float] | None = None, from_start: Iterable[str] = ()) -> None:
        super().__init__(waits or {})
        self.from_start = frozenset(from_start)


def parse_waits(text: str, known: Container[str], source: str = DATA_FILE) -> Waits:
    """The waits of the TOML text; WaitsError on an unknown requirement ID or
    a value that is not a number of seconds, zero or more (alone, or as
    `{seconds = N, from = "run-start"}`)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WaitsError(f"{source}: not valid TOML: {exc}") from None
    waits: dict[str, float] = {}
    from_start: list[str] = []
    for rid, value in document.items():
        if rid not in known:
            raise WaitsError(f"{source}: {rid}: unknown requirement ID (not in the catalogue)")
        seconds = value
        if isinstance(value, dict):
            if set(value) != {"seconds", "from"} or value["from"] != FROM_RUN_START:
                expected = f'{{ seconds = N, from = "{FROM_RUN_START}" }}'
                raise WaitsError(f"{source}: {rid}: expected {expected}, got {value!r}")
            seconds = value["seconds"]
            from_start.append(rid)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise WaitsError(f"{source}: {rid}: expected seconds (a number, zero or more), got {value!r}")
        waits[rid] = float(seconds)
    return Waits(waits, from_start)


def load_waits(known: Container[str]) -> Waits:
    text = resources.files("bsk_conformance.fixtures").joinpath(DATA_FILE).read_text(encoding="utf-8")
    return parse_waits(text, known)


def waits_apart(waits: Mapping[str, float], declared: Mapping[str, frozenset[str]], budget: float) -> frozenset[str]:
    """The requirements whose checks run apart on a real clock: a long wait
    that the budget can hold, and nothing disturbed but the clock (a wait the
    budget cannot hold is not verified at once, and needs no worker)."""
    from_start = getattr(waits, "from_start", frozenset())
    return frozenset(
        rid for rid, seconds in waits.items()
        if WAITS_APART_FROM <= seconds <= budget and declared.get(rid) == OVERLAPPING_WAITS and rid not in from_start
    )


def waits_spread(waits: Mapping[str, float], declared: Mapping[str, frozenset[str]], budget: float) -> frozenset[str]:
    """The requirements whose checks are spread one per worker on a real
    clock (phase WAITING): a wait of WAITS_SPREAD_FROM or more that the budget
    can hold, shorter than a wait apart, and nothing disturbed but the clock."""
    from_start = getattr(waits, "from_start", frozenset())
    return frozenset(
        rid for rid, seconds in waits.items()
        if WAITS_SPREAD_FROM <= seconds < WAITS_APART_FROM and seconds <= budget
        and declared.get(rid) == OVERLAPPING_WAITS and rid not in from_start
    )


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
    # the long waits that get a worker of their own
    apart: tuple[str, ...] = ()

    @property
    def total(self) -> float:
        return sum(self.waits.values())

    def lines(self) -> list[str]:
        said = [
            f"real time: about {self.total:.0f} s of waiting, overlapped into about {self.overlapped:.0f} s "
            f"(--real-time-budget {self.budget:g} s, {len(self.waits)} requirement(s) that wait)"
        ]
        if self.apart:
            said.append(
                f"real time: {len(self.apart)} long wait(s) each on a worker of its own, beside the rest of the run: "
                f"{', '.join(self.apart)}"
            )
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
    apart: Container[str] = (),
) -> RealTimePlan:
    """The waits of the `selected` requirements (in run order) that the budget
    holds, and the wall time they take.

    The budget is a deadline: every wait ends within `budget` seconds of the
    run's start (RealClockStrategy). Under -n (`workers` > 1) the `apart`
    waits each get a worker of their own from the start, when at least one
    worker is left for the rest (harness/phase_scheduler.py); the
    `overlapping` requirements (the clock their only disturbance) run in the
    parallel phase, each on the least busy of the other workers; the rest run
    one at a time in the serial phase, which starts once the parallel phase
    has ended, whatever the apart workers still wait. In a run without -n
    everything is one worker, and the waits add up. A wait counted from the
    run's start (`waits.from_start`) ends that long after it, whatever ran
    before: it overlaps everything."""
    order = list(dict.fromkeys(selected))
    from_start = getattr(waits, "from_start", frozenset())
    waiting = [rid for rid in order if waits.get(rid, 0.0) > 0 and rid not in from_start]
    since_start = [rid for rid in order if rid in from_start and waits[rid] > 0]
    alone = [rid for rid in waiting if rid in apart and waits[rid] <= budget] if workers > 1 else []
    if len(alone) >= workers:
        alone = []  # no worker would be left for the rest: they wait in the parallel phase
    fitted: dict[str, float] = {rid: waits[rid] for rid in alone}
    beyond: list[str] = []
    loads = [0.0] * max(workers - len(alone), 1)
    later: list[str] = []
    for rid in waiting:
        if rid in fitted:
            continue
        seconds = waits[rid]
        if workers == 1 or rid not in overlapping:
            later.append(rid)
            continue
        worker = loads.index(min(loads))
        if loads[worker] + seconds <= budget:
            fitted[rid] = seconds
            loads[worker] += seconds
        else:
            beyond.append(rid)
    clock = max(loads)  # the serial phase starts when the parallel phase ends
    for rid in later:
        seconds = waits[rid]
        if clock + seconds <= budget:
            fitted[rid] = seconds
            clock += seconds
        else:
            beyond.append(rid)
    for rid in since_start:  # each ends its seconds after the start, beside everything else
        if waits[rid] <= budget:
            fitted[rid] = waits[rid]
        else:
            beyond.append(rid)
    wall = max([clock] + [waits[rid] for rid in alone] + [waits[rid] for rid in since_start if rid in fitted])
    ordered = {rid: fitted[rid] for rid in order if rid in fitted}
    return RealTimePlan(budget, ordered, wall, tuple(sorted(beyond, key=order.index)), tuple(alone))
