"""harness/limits.py: a deadline per exchange, a cap on every body, and when to stop asking."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from freezegun import freeze_time

from bsk_conformance.harness.evidence import EvidenceLog, RecordingTransport, Redactor
from bsk_conformance.harness.limits import (
    ExchangeTimeout,
    Limits,
    ResponseTooLarge,
    TargetUnresponsive,
    read_capped,
    run_exchange,
)


@pytest.fixture
def slow_headers() -> Iterator[str]:
    """A server that sends its answer's head one line every 0.1 s, forever:
    no single read ever waits long, so a per-read timeout never trips."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\n")
                    while not stop.wait(0.1):
                        conn.sendall(b"X-Slow: a\r\n")
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    listener.close()
    thread.join(5)


def _client(limits: Limits, inner: httpx.BaseTransport | None = None) -> httpx.Client:
    log = EvidenceLog(Redactor())
    return httpx.Client(transport=RecordingTransport(inner or httpx.HTTPTransport(), log, limits), timeout=30)


def test_a_trickled_head_ends_at_the_exchange_deadline_not_per_read(slow_headers: str) -> None:
    client = _client(Limits(request_timeout=0.5))
    started = time.perf_counter()
    with pytest.raises(ExchangeTimeout, match=r"no complete answer within --request-timeout 0.5 s: waited 0\.\d s"):
        client.get(slow_headers)
    assert time.perf_counter() - started < 5  # per read it would never end


def test_the_deadline_holds_with_the_clock_frozen(slow_headers: str) -> None:
    client = _client(Limits(request_timeout=0.5))
    with freeze_time("2030-01-01"), pytest.raises(ExchangeTimeout):
        client.get(slow_headers)


def test_the_run_deadline_shortens_an_exchange_and_then_stops_every_check() -> None:
    limits = Limits(request_timeout=60, run_timeout=0.3)
    release = threading.Event()

    def hang(request: httpx.Request) -> httpx.Response:
        release.wait(30)
        return httpx.Response(200)

    try:
        with pytest.raises(ExchangeTimeout, match=r"the run deadline \(--run-timeout 0.3 s\)"):
            _client(limits, httpx.MockTransport(hang)).get("http://127.0.0.1:9/")
    finally:
        release.set()
    assert limits.run_expired() == "not run: the run deadline (--run-timeout 0.3 s) had passed"


def test_timeouts_in_a_row_make_the_target_unresponsive_and_an_answer_resets_the_count() -> None:
    limits = Limits(request_timeout=1, unresponsive_after=3)
    answers = iter([None, None, 200, None, None, None])

    def flaky(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        if status is None:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(status)

    transport = httpx.MockTransport(flaky)
    request = httpx.Request("GET", "http://127.0.0.1:9/")
    outcomes = []
    for _ in range(7):
        try:
            run_exchange(transport, request, limits)
            outcomes.append("answer")
        except TargetUnresponsive:
            outcomes.append("unresponsive")
        except ExchangeTimeout:
            outcomes.append("timeout")
    assert outcomes == ["timeout", "timeout", "answer", "timeout", "timeout", "timeout", "unresponsive"]
    assert "judged unresponsive after 3 exchanges in a row" in (limits.run_expired() or "")


def test_a_gzip_bomb_inflates_only_to_the_cap() -> None:
    bomb = gzip.compress(b" " * (64 * 1024 * 1024))  # 64 MB from ~64 kB
    chunks = [bomb[i : i + 4096] for i in range(0, len(bomb), 4096)]
    body = read_capped(iter(chunks), "gzip", cap=1024 * 1024)
    assert body.over_cap and len(body.content) == 1024 * 1024 and body.decoded_bytes == 1024 * 1024 + 1
    assert body.wire_bytes < len(bomb)  # it stopped reading, too


def test_a_body_within_the_cap_is_decoded_whole() -> None:
    text = b'{"data": []}' * 1000
    for encoding, data in (("gzip", gzip.compress(text)), ("identity", text), (None, text)):
        body = read_capped(iter([data[:100], data[100:]]), encoding, cap=len(text))
        assert (body.content, body.over_cap) == (text, False)


def test_an_over_cap_answer_fails_the_check_with_the_size_seen_and_keeps_a_capped_copy() -> None:
    log = EvidenceLog(Redactor())
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b"x" * 5000))
    client = httpx.Client(transport=RecordingTransport(transport, log, Limits(max_response_bytes=1024)))
    with log.collecting() as exchanges, pytest.raises(ResponseTooLarge) as failure:
        client.get("http://127.0.0.1:9/projects")
    assert "--max-response-bytes (1,024 bytes)" in str(failure.value)
    assert "read stopped at 1,025 bytes decoded from 5,000 bytes on the wire" in str(failure.value)
    assert exchanges[0].truncated and len(exchanges[0].responseBody) <= 1024
    assert "abandoned past --max-response-bytes" in (exchanges[0].note or "")


def test_a_body_that_is_not_json_fails_the_check_and_is_still_a_value_error() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b"\xff\xfe<html>"))
    response = _client(Limits(), transport).get("http://127.0.0.1:9/me")
    with pytest.raises(AssertionError, match=r"GET /me: expected a JSON body; observed HTTP 200 with no Content-Type"):
        response.json()
    with pytest.raises(ValueError):  # code that tolerates a non-JSON answer still can
        response.json()


def test_a_redirect_location_is_redacted_in_evidence_and_shown_redacted() -> None:
    location = "http://user:hunter22@127.0.0.2:1/x?token=opaque-token-value&next=1"
    transport = httpx.MockTransport(lambda request: httpx.Response(302, headers={"location": location}))
    log = EvidenceLog(Redactor())
    client = httpx.Client(transport=RecordingTransport(transport, log, Limits()), follow_redirects=False)
    with log.collecting() as exchanges:
        response = client.get("http://127.0.0.1:9/organization")
    shown = response.shown_location
    recorded = exchanges[0].responseHeaders["location"]
    for text in (shown, recorded):
        assert "hunter22" not in text and "opaque-token-value" not in text, text
        assert "«password:" in text and "token=«token:" in text and "next=1" in text
