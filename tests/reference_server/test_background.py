"""BackgroundServer: the in-process HTTP server the harness and these tests use."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.background import BackgroundServer
from bsk_conformance.reference_server.clock import FrozenClock

from .conftest import ALICE, T0


def test_serves_on_an_ephemeral_port_and_stops() -> None:
    clock = FrozenClock(T0)
    server = BackgroundServer(create_app(Settings(), clock=clock))
    with server:
        assert server.url.startswith("http://127.0.0.1:")
        url = server.url
        response = httpx.get(f"{url}/_test/clock")
        assert response.json() == {"now": "2027-01-15T08:00:00Z"}
        clock.advance(5)  # the harness moves time directly
        assert httpx.get(f"{url}/_test/clock").json() == {"now": "2027-01-15T08:00:05Z"}
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/_test/clock")


def test_start_and_stop_are_quick() -> None:
    started = time.perf_counter()
    app = create_app(Settings(), clock=FrozenClock(T0))
    # A kept-alive connection must not delay the stop.
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url) as client:
        client.post("/auth/login", json=ALICE)
    assert time.perf_counter() - started < 3


def test_a_port_in_use_is_an_oserror_in_the_caller() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            BackgroundServer(create_app(Settings(), clock=FrozenClock(T0)), port=port).start()


def test_url_before_start_is_an_error() -> None:
    server = BackgroundServer(create_app(Settings(), clock=FrozenClock(T0)))
    with pytest.raises(RuntimeError):
        _ = server.url
