"""The server's one source of time.

Every time-dependent rule of the contract (token lifetimes, refresh-family
expiry, TOTP steps, rate-limit windows, key expiry, login throttling,
``createdAt``) reads the app's :class:`Clock`. Nothing else in
``reference_server`` may call ``time.time()`` or ``datetime.now()``: that is
what lets a test, or the harness, move time instead of waiting for it.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Protocol, runtime_checkable

__all__ = [
    "AdjustableClock",
    "Clock",
    "FrozenClock",
    "OffsetClock",
    "SystemClock",
    "format_timestamp",
    "parse_timestamp",
]


@runtime_checkable
class Clock(Protocol):
    """Anything that can tell the time, in seconds since the epoch (UTC)."""

    def now(self) -> float: ...


@runtime_checkable
class AdjustableClock(Clock, Protocol):
    """A clock that a test can move forward (what ``/_test/clock`` needs)."""

    def advance(self, seconds: float) -> float: ...


class SystemClock:
    """Wall-clock time through ``time.time()``.

    Reading ``time.time()`` at call time (rather than binding it at import)
    is deliberate: freezegun and time-machine patch it, so they drive this
    clock too.
    """

    def now(self) -> float:
        return time.time()

    def __repr__(self) -> str:
        return "SystemClock()"


class FrozenClock:
    """A clock that stands still until told to move: exact, repeatable boundaries."""

    def __init__(self, start: float) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError("a clock only moves forward; seconds must be >= 0")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, t: float) -> None:
        """Jump to ``t`` (either direction: a test may rewind a frozen clock)."""
        with self._lock:
            self._now = float(t)

    def __repr__(self) -> str:
        return f"FrozenClock({self.now()!r})"


class OffsetClock:
    """System time plus an offset: a test clock that keeps ticking after an advance.

    This is what the CLI uses in the test environment, so a remote harness
    can skip 900 s of token lifetime with ``POST /_test/clock``.
    """

    def __init__(self, offset: float = 0.0) -> None:
        self._offset = float(offset)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Grow the offset by ``seconds`` (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError("a clock only moves forward; seconds must be >= 0")
        with self._lock:
            self._offset += seconds
            return time.time() + self._offset

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def __repr__(self) -> str:
        return f"OffsetClock(offset={self.offset!r})"


# RFC 3339 §5.6 date-time: a full date, "T", a full time with an explicit offset.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})\Z"
)


def format_timestamp(t: float) -> str:
    """Render epoch seconds as an RFC 3339 UTC string (``2027-01-15T08:00:00Z``).

    Whole seconds print without a fraction, so an ``expiresAt`` a client sent
    as ``...:00Z`` comes back unchanged; sub-second times keep their digits.
    """
    dt = datetime.fromtimestamp(t, tz=UTC)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        text += "." + f"{dt.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_timestamp(text: str) -> float:
    """Parse an RFC 3339 date-time with an explicit offset into epoch seconds.

    Raises ``ValueError`` for anything else (no offset, leap second, bad date).
    """
    match = _RFC3339.match(text)
    if match is None:
        raise ValueError("not an RFC 3339 date-time with a time-zone offset")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if offset in ("Z", "z"):
        tz = UTC
    else:
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError("time-zone offset out of range")
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz)
    return dt.timestamp()
