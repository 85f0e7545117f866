"""The clock seam: the clocks themselves, timestamps, and /_test/clock (contract §6)."""

from __future__ import annotations

import threading
import time

import pytest

from bsk_conformance.reference_server.clock import (
    AdjustableClock,
    Clock,
    FrozenClock,
    OffsetClock,
    SystemClock,
    format_timestamp,
    parse_timestamp,
)

from .conftest import T0, Api


class TestClocks:
    def test_frozen_stays_put_until_moved(self) -> None:
        clock = FrozenClock(T0)
        assert clock.now() == clock.now() == T0
        assert clock.advance(1.5) == T0 + 1.5
        clock.set(T0 - 10)
        assert clock.now() == T0 - 10

    def test_clocks_never_advance_backwards(self) -> None:
        for clock in (FrozenClock(T0), OffsetClock()):
            with pytest.raises(ValueError):
                clock.advance(-1)

    def test_offset_ticks_from_the_advanced_point(self) -> None:
        clock = OffsetClock()
        clock.advance(3600)
        assert 3599 < clock.now() - time.time() < 3601

    def test_system_reads_time_time(self) -> None:
        assert abs(SystemClock().now() - time.time()) < 1

    def test_protocols(self) -> None:
        assert isinstance(SystemClock(), Clock) and not isinstance(SystemClock(), AdjustableClock)
        assert isinstance(FrozenClock(0), AdjustableClock) and isinstance(OffsetClock(), AdjustableClock)

    def test_advances_from_many_threads_all_land(self) -> None:
        clock = FrozenClock(0)
        threads = [threading.Thread(target=lambda: [clock.advance(1) for _ in range(1000)]) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert clock.now() == 8000


class TestTimestamps:
    @pytest.mark.parametrize(
        ("t", "text"),
        [(T0, "2027-01-15T08:00:00Z"), (T0 + 0.5, "2027-01-15T08:00:00.5Z"), (0, "1970-01-01T00:00:00Z")],
    )
    def test_format(self, t: float, text: str) -> None:
        assert format_timestamp(t) == text
        assert parse_timestamp(text) == t

    @pytest.mark.parametrize(
        ("text", "t"),
        [("2027-01-15T09:00:00+01:00", T0), ("2027-01-15t08:00:00z", T0),
         ("2027-01-15T08:00:00.123456789Z", T0 + 0.123456)],
    )
    def test_parse(self, text: str, t: float) -> None:
        assert parse_timestamp(text) == pytest.approx(t)

    @pytest.mark.parametrize("text", ["2027-01-15T08:00:00", "2027-01-15", "2027-13-01T00:00:00Z",
                                      "2027-01-15T08:00:60Z", "2027-01-15T08:00:00+24:00", "0000-01-01T00:00:00Z",
                                      " 2027-01-15T08:00:00Z", "2027-01-15T08:00:00Z\n"])
    def test_parse_refuses(self, text: str) -> None:
        with pytest.raises(ValueError):
            parse_timestamp(text)


class TestClockRoutes:
    def test_get_reads_the_clock(self, api: Api) -> None:
        assert api.http.get("/_test/clock").json() == {"now": "2027-01-15T08:00:00Z"}

    def test_post_advances_it(self, api: Api) -> None:
        response = api.http.post("/_test/clock", json={"advanceSeconds": 900})
        assert response.status_code == 200 and response.json() == {"now": "2027-01-15T08:15:00Z"}
        assert api.clock.now() == T0 + 900

    def test_fractions_and_zero(self, api: Api) -> None:
        assert api.http.post("/_test/clock", json={"advanceSeconds": 0.25}).json()["now"] == "2027-01-15T08:00:00.25Z"
        assert api.http.post("/_test/clock", json={"advanceSeconds": 0}).status_code == 200

    @pytest.mark.parametrize("body", [{}, {"advanceSeconds": -1}, {"advanceSeconds": "60"}, {"advanceSeconds": True},
                                      {"advanceSeconds": None}, {"advanceSeconds": 1e300}, [60]])
    def test_bad_advances_are_400(self, api: Api, body: object) -> None:
        response = api.http.post("/_test/clock", json=body)
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"
        assert api.clock.now() == T0

    def test_moving_the_clock_over_http_expires_tokens(self, api: Api) -> None:
        token = api.tokens()["accessToken"]
        api.http.post("/_test/clock", json={"advanceSeconds": 900})
        assert api.http.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
