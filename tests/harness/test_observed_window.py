"""The window of the target's time around one exchange (suites/_observed.py):
which source it is read from, and what it holds.

Both legs of the detection matrix use a clock the harness drives (frozen
in-process, `/_test/clock` remotely); the other sources (clock control read
only under `--clock off`, the `Date` header, the harness's own clock) are shown
here, each with a time that is right and one 300 s off."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from bsk_conformance.harness.timestamps import format_rfc3339
from bsk_conformance.suites._observed import OWN_CLOCK_SLACK, Window, observed

NOW = 1_800_000_000.0


@dataclass
class FakeClock:
    name: str
    moments: list[float]
    tolerance: float = 2.0

    def now(self) -> float:
        return self.moments.pop(0)


@dataclass
class Capabilities:
    clock_control: bool = False


@dataclass
class FakeTarget:
    """Answers GET /_test/clock with the next of `clock_reads`."""

    clock_reads: list[float] = field(default_factory=list)
    capabilities: Capabilities = field(default_factory=Capabilities)
    asked: list[str] = field(default_factory=list)

    def get(self, path: str) -> httpx.Response:
        self.asked.append(path)
        return httpx.Response(200, json={"now": format_rfc3339(self.clock_reads.pop(0))})


def _answer(date: float | None = None) -> httpx.Response:
    headers = {"date": format_datetime(datetime.fromtimestamp(date, UTC), usegmt=True)} if date is not None else {}
    return httpx.Response(200, headers=headers)


def test_a_clock_the_harness_drives_is_read_before_and_after():
    clock = FakeClock("control", [NOW, NOW + 0.5])
    _, window = observed(FakeTarget(), clock, lambda: _answer(NOW - 3600))  # the Date header is not asked
    assert (window.before, window.after, window.slack) == (NOW, NOW + 0.5, 2.0)
    assert window.holds(NOW) and window.holds(NOW + 2.5)
    assert not window.holds(NOW - 300) and not window.holds(NOW + 300)


def test_clock_control_is_read_when_the_run_does_not_move_time_and_the_date_header_is_ignored():
    target = FakeTarget([NOW, NOW + 1], Capabilities(clock_control=True))
    # a frozen test clock: the HTTP server's Date header says the host's time, an hour on
    _, window = observed(target, FakeClock("off", []), lambda: _answer(NOW + 3600))
    assert target.asked == ["/_test/clock", "/_test/clock"]
    assert window.holds(NOW) and not window.holds(NOW + 3600)
    assert "/_test/clock" in window.source


def test_without_clock_control_the_date_header_is_the_targets_clock_to_the_second():
    _, window = observed(FakeTarget(), FakeClock("real", []), lambda: _answer(NOW))
    assert "Date header" in window.source
    assert window.holds(NOW) and window.holds(NOW + 0.9)
    assert not window.holds(NOW - 300) and not window.holds(NOW + 300)


def test_without_clock_control_or_date_header_the_harness_clock_gets_a_wide_allowance(monkeypatch):
    monkeypatch.setattr("bsk_conformance.suites._observed.time.time", lambda: NOW)
    _, window = observed(FakeTarget(), FakeClock("off", []), lambda: _answer(None))
    assert window.slack == OWN_CLOCK_SLACK and "own clock" in window.source
    assert window.holds(NOW + OWN_CLOCK_SLACK - 1) and not window.holds(NOW - 300)


@pytest.mark.parametrize("written", [NOW, NOW - 0.999])
def test_a_time_written_to_the_second_may_be_the_floor_of_the_true_one(written):
    window = Window(NOW + 0.4, NOW + 0.6, 0.0, "test")
    assert window.holds(int(written)) is (int(written) == NOW)


def test_a_time_outside_is_described_by_how_far_it_lies_from_the_window():
    window = Window(NOW, NOW, 0.0, "test")
    assert window.off_by(NOW - 300).endswith("300 s before the window")
    assert window.off_by(NOW + 3600).endswith("3600 s after the window")
