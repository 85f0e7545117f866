"""What the harness observed of the target's time around one exchange.

A target's claims and timestamps are judged against a window the harness saw
for itself, never against each other: the target's clock read just before the
exchange and just after it, from the best source the run has.

- frozen or control clock: the target's own clock (the in-process server's
  clock object, or `GET /_test/clock`), with the clock's tolerance (§8: a test
  clock may keep ticking);
- a target with clock control that the run does not move (`--clock off` or
  `real`): its `GET /_test/clock`, read only. Not its `Date` header: that is
  written by the HTTP server from the host's clock, which a test clock that
  was moved (or is frozen) no longer agrees with;
- otherwise the answer's `Date` header (the target's clock, to the second);
- otherwise the harness's own clock, with OWN_CLOCK_SLACK either side, since
  nothing says the two machines agree to better than that.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx

from bsk_conformance.harness.api import ClockStrategy, PreconditionFailed, Target, parse_rfc3339

# Two machines' clocks, with nothing but NTP between them, can be seconds
# apart; a minute is far wider than that and still catches a time 300 s off.
OWN_CLOCK_SLACK = 60.0
# the strategies whose now() is the target's own clock
TARGET_CLOCKS = ("frozen", "control")

T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """The target's time was in [before, after] (each ± slack) during the exchange."""

    before: float
    after: float
    slack: float
    source: str

    @property
    def earliest(self) -> float:
        return self.before - self.slack

    @property
    def latest(self) -> float:
        return self.after + self.slack

    def holds(self, moment: float) -> bool:
        """Whether `moment` lies in the window; a time written to the second
        (iat, a createdAt without a fraction) may be the floor of the true one."""
        return math.floor(self.earliest) <= moment <= self.latest

    def describe(self) -> str:
        return f"from {instant(self.earliest)} to {instant(self.latest)} ({self.source}, read around the exchange)"

    def off_by(self, moment: float) -> str:
        """Where `moment` lies against the window, in words."""
        if moment < math.floor(self.earliest):
            return f"{instant(moment)}, {self.earliest - moment:.0f} s before the window"
        if moment > self.latest:
            return f"{instant(moment)}, {moment - self.latest:.0f} s after the window"
        return f"{instant(moment)}, inside the window"


def instant(moment: float) -> str:
    """Epoch seconds as an RFC 3339 UTC time to the millisecond, for messages."""
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def observed(target: Target, clock: ClockStrategy, exchange: Callable[[], T],
             answer: Callable[[T], httpx.Response] | None = None) -> tuple[T, Window]:
    """Run `exchange` and return its result with the window of the target's time
    it ran in. `answer` picks the HTTP answer out of the result (for its `Date`
    header) when the result is not the response itself."""
    if clock.name in TARGET_CLOCKS:
        before = clock.now()
        result = exchange()
        after = clock.now()
        return result, Window(before, after, clock.tolerance, f"the target's clock, {clock.name}")
    if target.capabilities.clock_control:
        before = _clock_control_now(target)
        result = exchange()
        after = _clock_control_now(target)
        return result, Window(before, after, clock.tolerance, "the target's GET /_test/clock")
    before = time.time()
    result = exchange()
    after = time.time()
    response = answer(result) if answer is not None else result
    date = _date(response) if isinstance(response, httpx.Response) else None
    if date is not None:
        # Date is the target's clock truncated to the second (RFC 9110 §6.6.1)
        return result, Window(date, date + 1, clock.tolerance, "the target's Date header")
    return result, Window(before, after, OWN_CLOCK_SLACK, "the harness's own clock, no Date header")


def _clock_control_now(target: Target) -> float:
    """GET /_test/clock's {now}; preflight found it answering, so anything else
    is the target failing a step before the rule."""
    response = target.get("/_test/clock")
    try:
        return parse_rfc3339(response.json()["now"])
    except (ValueError, KeyError, TypeError):
        raise PreconditionFailed("GET /_test/clock did not answer {now} as an RFC 3339 time", response) from None


def _date(response: httpx.Response) -> float | None:
    value = response.headers.get("date")
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
