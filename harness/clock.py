"""How the harness moves the target's time, behind one interface.

- frozen:  the bundled server in-process; its clock object is moved directly.
- control: a remote target's `/_test/clock` (contract §6).
- real:    real waiting, each wait ending within `--real-time-budget` seconds of the run's start.
- off:     time does not move; a check that needs it is not verified.

A check asks `clock.advance(seconds)`; when the strategy cannot move time that
far, the check ends as not verified, with the reason, and never passes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import httpx

from bsk_conformance.harness.disturbances import touch
from bsk_conformance.harness.timestamps import parse_rfc3339
from bsk_conformance.harness.verdicts import NotVerified

MODES = ("auto", "control", "real", "off")
# seconds either side of a boundary for a clock that moves by itself (real
# time, or a test clock that keeps ticking after an advance, contract §8)
TICKING_TOLERANCE = 2.0


class ClockStrategy(Protocol):
    name: str
    # A clock that keeps ticking from an advanced point (contract §8 latitude)
    # makes boundaries fuzzy by up to this many seconds either side.
    tolerance: float

    def now(self) -> float:
        """The target's notion of now, in epoch seconds."""

    def can_advance(self, seconds: float) -> bool:
        """Whether `advance(seconds)` would move time rather than end the check."""

    def advance(self, seconds: float) -> None:
        """Move the target's time forward, or raise NotVerified."""


class FrozenClockStrategy:
    """Drives the in-process reference server's clock object directly.

    That is its FrozenClock, unless the server was built with a clock that
    keeps ticking from each advance (contract §8 latitude): then boundaries
    get the same tolerance as a remote ticking clock."""

    name = "frozen"

    def __init__(self, server_clock) -> None:  # reference_server.clock.FrozenClock, or a ticking one
        from bsk_conformance.reference_server.clock import FrozenClock

        self._clock = server_clock
        self.tolerance = 0.0 if isinstance(server_clock, FrozenClock) else TICKING_TOLERANCE

    def now(self) -> float:
        return self._clock.now()

    def can_advance(self, seconds: float) -> bool:
        return True

    def advance(self, seconds: float) -> None:
        touch("clock", "moved the target's clock")
        self._clock.advance(seconds)

    @contextmanager
    def held_at(self, moment: float) -> Iterator[None]:
        """The server reads `moment` (earlier than now, if need be) until the
        block ends, then its own time again: only a clock the harness owns can
        be set back, as a node whose clock lags the issuer's would read."""
        touch("clock", "set the target's clock back")
        before = self._clock.now()
        self._clock.set(moment)
        try:
            yield
        finally:
            self._clock.set(before)


class ControlClockStrategy:
    """Drives a remote target through `GET`/`POST /_test/clock`."""

    name = "control"
    tolerance = TICKING_TOLERANCE

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def now(self) -> float:
        response = self._client.get("_test/clock")
        return _parse_now(response)

    def can_advance(self, seconds: float) -> bool:
        return True

    def advance(self, seconds: float) -> None:
        """Move the target's clock, and make sure it moved: a check that goes on
        after an advance the target ignored would judge the rule at the wrong
        time, and fail (or pass) a target for what its clock control did."""
        touch("clock", "moved the target's clock")
        before = self.now()
        response = self._client.post("_test/clock", json={"advanceSeconds": seconds})
        if response.status_code != 200:
            raise NotVerified(
                f"the target's clock control refused to advance {seconds:g} s (HTTP {response.status_code})"
            )
        after = self.now()
        if after - before < seconds - self.tolerance:
            raise NotVerified(
                f"the target's clock control answered an advance of {seconds:g} s, but its clock moved "
                f"{after - before:+.3f} s (BSK-CLK-002 judges its clock control)"
            )


class RealClockStrategy:
    """Waits in real time, every wait ending within the budget of the run's start.

    The budget is a deadline, `started + budget`, the same for every process
    of the run (under -n the workers get the controller's start): waits that
    overlap on several workers each count once, as the wall time they take,
    and a wait that would end after the deadline is not begun. Within one
    process the waits also add up to no more than the budget, so a fake
    `sleep` (the tests') spends it as a real one does."""

    name = "real"
    tolerance = TICKING_TOLERANCE

    def __init__(self, budget: float, sleep=time.sleep, offset: float = 0.0, started: float | None = None) -> None:
        self._remaining = budget
        self._budget = budget
        self._deadline = (time.time() if started is None else started) + budget
        self._sleep = sleep
        self._lock = threading.Lock()
        # a target with a test clock of its own (run with --clock real) may be far from
        # real time: its clock read once at open, so "now" is the target's, moving in real time
        self._offset = offset

    def now(self) -> float:
        return time.time() + self._offset

    def left(self) -> float:
        """Seconds of waiting the budget still holds."""
        return max(0.0, min(self._remaining, self._deadline - time.time()))

    def can_advance(self, seconds: float) -> bool:
        return seconds <= self.left()

    def advance(self, seconds: float) -> None:
        with self._lock:
            left = self.left()
            if seconds > left:
                raise NotVerified(
                    f"needs {seconds:g} s of real time; the --real-time-budget of {self._budget:g} s (counted from "
                    f"the run's start, every worker alike) has {left:.0f} s left, and the target has no clock control"
                )
            self._remaining -= seconds
        touch("clock", "waited on the target's clock")
        self._sleep(seconds)


class OffClockStrategy:
    """Time never moves: every time-dependent check is not verified."""

    name = "off"
    tolerance = TICKING_TOLERANCE

    def __init__(self, reason: str = "clock control is off (--clock off)", offset: float = 0.0) -> None:
        self.reason = reason
        self._offset = offset  # as RealClockStrategy's: the target's own clock, when it shows one

    def now(self) -> float:
        return time.time() + self._offset

    def can_advance(self, seconds: float) -> bool:
        return False

    def advance(self, seconds: float) -> None:
        raise NotVerified(f"needs the target's time moved by {seconds:g} s, but {self.reason}")


def advance_to(clock: ClockStrategy, moment: float) -> None:
    """Move the target's time to `moment` (never backwards)."""
    clock.advance(max(0.0, moment - clock.now()))


@contextmanager
def held_at(clock: ClockStrategy, moment: float) -> Iterator[None]:
    """The target's time reads `moment` for the block, even one in the past;
    not verified where the run's clock cannot be set back (every clock but
    the in-process server's: a remote clock only moves forward)."""
    hold = getattr(clock, "held_at", None)
    if hold is None:
        raise NotVerified(f"needs the target's clock set back, which the {clock.name} clock cannot do")
    with hold(moment):
        yield


def _parse_now(response: httpx.Response) -> float:
    if response.status_code != 200:
        raise NotVerified(f"the target's clock control answered HTTP {response.status_code}")
    try:
        value = response.json()["now"]
        return parse_rfc3339(value)
    except (ValueError, KeyError, TypeError):
        raise NotVerified("the target's clock control did not answer {now} as an RFC 3339 time") from None


def target_offset(client: httpx.Client) -> float:
    """How far the target's test clock (`GET /_test/clock`) is from real time; 0
    when it shows none. Read once: the real and off strategies never move it."""
    try:
        return _parse_now(client.get("_test/clock")) - time.time()
    except Exception:  # no usable clock: real time is the best guess
        return 0.0
