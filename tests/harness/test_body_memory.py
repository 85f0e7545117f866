"""What a run keeps of the bodies it reads: a bounded prefix in the evidence
with the size seen, the whole body in the check's answer, and nothing once
the answer is dropped (harness/evidence.py, harness/limits.py,
harness/body_memory.py)."""

from __future__ import annotations

import gc
import tracemalloc
import weakref
from collections.abc import Iterator

import httpx
import pytest

from bsk_conformance.harness.body_memory import BodyReclaimer
from bsk_conformance.harness.evidence import BODY_CAP, EvidenceLog, RecordingTransport, Redactor
from bsk_conformance.harness.limits import Limits, ResponseTooLarge

CAP = 1024 * 1024


def _padded_json(size: int) -> bytes:
    """A JSON document of exactly `size` bytes: a list, then whitespace."""
    document = b'{"data": [{"id": "p-1", "name": "first"}]}'
    return document + b" " * (size - len(document))


def _transport(body: bytes) -> tuple[RecordingTransport, EvidenceLog]:
    log = EvidenceLog(Redactor())
    # the answer refers to its request, as a real connection's stream does
    inner = httpx.MockTransport(lambda request: httpx.Response(200, content=body, request=request))
    return RecordingTransport(inner, log, Limits(max_response_bytes=CAP)), log


@pytest.fixture
def no_automatic_gc() -> Iterator[None]:
    """Only reference counting frees anything: what the cyclic GC would free
    later is what piled up against a target answering at the cap."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_the_check_reads_the_whole_body_and_the_evidence_keeps_a_prefix_and_the_size_seen() -> None:
    body = _padded_json(CAP)  # the largest body allowed
    transport, log = _transport(body)
    with log.collecting() as exchanges:
        answer = transport.handle_request(httpx.Request("GET", "http://127.0.0.1:9/projects"))
    assert answer.content == body and answer.json() == {"data": [{"id": "p-1", "name": "first"}]}
    [exchange] = exchanges
    assert exchange.truncated and exchange.responseBytes == CAP and exchange.requestBytes is None
    assert len(exchange.responseBody) <= BODY_CAP
    assert exchange.as_dict()["responseBytes"] == CAP


def test_a_body_past_the_cap_records_where_the_read_stopped() -> None:
    transport, log = _transport(b"x" * (3 * CAP))
    with log.collecting() as exchanges, pytest.raises(ResponseTooLarge):
        transport.handle_request(httpx.Request("GET", "http://127.0.0.1:9/projects"))
    [exchange] = exchanges
    assert exchange.truncated and exchange.responseBytes == CAP + 1
    assert len(exchange.responseBody) <= BODY_CAP


def test_small_bodies_are_recorded_as_before_with_no_size_field() -> None:
    transport, log = _transport(b'{"data": []}')
    with log.collecting() as exchanges:
        transport.handle_request(httpx.Request("POST", "http://127.0.0.1:9/projects", json={"name": "a"}))
    assert "responseBytes" not in exchanges[0].as_dict() and "requestBytes" not in exchanges[0].as_dict()
    assert not exchanges[0].truncated


def test_a_body_is_freed_with_its_answer_without_waiting_for_the_gc(no_automatic_gc: None) -> None:
    transport, log = _transport(_padded_json(CAP))
    tracemalloc.start()
    try:
        with log.collecting():
            for _ in range(20):
                answer = transport.handle_request(httpx.Request("GET", "http://127.0.0.1:9/projects"))
                assert len(answer.content) == CAP
                del answer
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 20 bodies of 1 MB went through; at most the mock's own copy may remain
    assert held < 4 * CAP, f"{held / CAP:.1f} MB still held after 20 answers of 1 MB were dropped"


def test_the_reclaimer_collects_cycles_once_every_so_many_bytes_read(no_automatic_gc: None) -> None:
    class Holder:
        pass

    reclaimer = BodyReclaimer(every=100)
    cycle = Holder()
    cycle.me = cycle  # type: ignore[attr-defined]
    alive = weakref.ref(cycle)
    del cycle
    reclaimer.read(60)
    assert alive() is not None and reclaimer.collections == 0
    reclaimer.read(60)
    assert alive() is None and reclaimer.collections == 1
