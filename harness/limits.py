"""What the harness accepts from a target: a deadline per exchange, a cap on
every body, a deadline for the whole run, and when to stop asking.

The target is untrusted. httpx's timeout bounds each read, so a server that
trickles one byte every few seconds never trips it, and `response.read()`
holds whatever the server sends, decoded: 2 MB of gzip become 2 GB. Here an
exchange runs on a worker thread that the caller stops waiting for at the
deadline, and the body is read as a stream, counted on the wire and after
decoding, and abandoned past the cap.

`RecordingTransport` (harness/evidence.py) calls `run_exchange` around
whatever inner transport it wraps, so these limits hold for any transport.
"""

from __future__ import annotations

import io
import json
import queue
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bsk_conformance.harness.body_memory import BodyReclaimer, keep_bodies_mapped
from bsk_conformance.harness.verdicts import CheckFailed

DEFAULT_REQUEST_TIMEOUT = 10.0
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
DEFAULT_RUN_TIMEOUT = 15 * 60.0
DEFAULT_CLEANUP_TIMEOUT = 30.0
DEFAULT_UNRESPONSIVE_AFTER = 3
# what the harness asks for, and so what it can decode within the cap
ACCEPT_ENCODING = "gzip, deflate"


class _RealClock:
    """The real monotonic clock. freezegun replaces every module-level name
    bound to `time.perf_counter`, and a frozen clock would make every deadline
    unreachable; a class attribute is out of its reach."""

    now: Callable[[], float] = staticmethod(time.perf_counter)


def now() -> float:
    return _RealClock.now()


class ExchangeTimeout(httpx.TimeoutException):
    """No complete answer before the deadline: the check ends in `error`."""


class TargetUnresponsive(httpx.TransportError):
    """Several exchanges in a row timed out; the harness stops asking."""


class ResponseTooLarge(CheckFailed):
    """The answer's body passed --max-response-bytes: the check fails."""


class NotJSON(CheckFailed, json.JSONDecodeError):
    """A body that is not JSON where a check reads JSON. It is a CheckFailed
    (the check fails, with a sentence) and still a JSONDecodeError/ValueError,
    so code that tolerates a non-JSON answer keeps doing so."""

    def __init__(self, message: str, document: str, position: int) -> None:
        json.JSONDecodeError.__init__(self, message, document, position)
        self.args = (message,)

    def __str__(self) -> str:
        return str(self.args[0])


def size(n: int) -> str:
    """`10 MB`, `65,536 bytes`: sizes in messages a reader can take in."""
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MB"
    return f"{n:,} bytes"


@dataclass
class Limits:
    """The run's limits and the target's health; one per run, shared by every
    thread that sends (concurrency checks send from helpers)."""

    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    # after this many timeouts in a row the target is judged unresponsive (0: never)
    unresponsive_after: int = DEFAULT_UNRESPONSIVE_AFTER
    run_timeout: float | None = None
    run_started: float = field(default_factory=now)
    # after SIGINT/SIGTERM (harness/interruption.py): what is left of the run is
    # undoing what it changed, under a deadline of its own; a second signal abandons it
    cleanup_timeout: float | None = None
    cleanup_deadline: float | None = None
    abandoned: str | None = None
    _consecutive_timeouts: int = 0
    _unresponsive: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        keep_bodies_mapped()  # bodies up to max_response_bytes, given back when freed

    # -- the run's deadline -----------------------------------------------

    def run_left(self) -> float | None:
        if self.run_timeout is None:
            return None
        return self.run_started + self.run_timeout - now()

    def begin_cleanup(self, seconds: float) -> None:
        """From now on every exchange ends by the cleanup deadline (the run
        deadline no longer applies: cleanup gets its own time even past it)."""
        self.cleanup_timeout = seconds
        self.cleanup_deadline = now() + seconds

    def abandon(self, reason: str) -> None:
        """No further exchange is sent; one in flight is left to its thread."""
        self.abandoned = reason

    def exchange_budget(self) -> tuple[float, str]:
        """How long the next exchange may take, and the limit that says so."""
        budget, what = self.request_timeout, f"--request-timeout {self.request_timeout:g} s"
        if self.cleanup_deadline is not None:
            left = self.cleanup_deadline - now()
            if left < budget:
                budget, what = max(left, 0.0), f"the cleanup deadline (--cleanup-timeout {self.cleanup_timeout:g} s)"
            return budget, what
        run_left = self.run_left()
        if run_left is not None and run_left < budget:
            budget, what = max(run_left, 0.0), f"the run deadline (--run-timeout {self.run_timeout:g} s)"
        return budget, what

    def run_expired(self) -> str | None:
        """Why no further check may start, or None."""
        left = self.run_left()
        if left is not None and left <= 0:
            return f"not run: the run deadline (--run-timeout {self.run_timeout:g} s) had passed"
        return self.unresponsive()

    # -- the target's health ------------------------------------------------

    def unresponsive(self) -> str | None:
        return self._unresponsive

    def timed_out(self) -> None:
        with self._lock:
            self._consecutive_timeouts += 1
            if self.unresponsive_after and self._consecutive_timeouts >= self.unresponsive_after:
                self._unresponsive = (
                    f"not run: the target was judged unresponsive after {self._consecutive_timeouts} exchanges "
                    f"in a row gave no complete answer within --request-timeout {self.request_timeout:g} s"
                )

    def answered(self) -> None:
        with self._lock:
            self._consecutive_timeouts = 0


@dataclass
class Body:
    """What was read of a body, decoded: at most the cap."""

    content: bytes
    wire_bytes: int
    decoded_bytes: int
    over_cap: bool


class _Decoder:
    """Content-Encoding decoding that never produces more than it is allowed:
    zlib's `max_length` bounds the output of every call, so a bomb inflates
    only as far as the cap. Encodings the harness did not ask for are kept
    as they came (httpx does the same for ones it cannot decode)."""

    def __init__(self, content_encoding: str | None) -> None:
        names = [e.strip().lower() for e in (content_encoding or "").split(",") if e.strip()]
        self._stages: list[Any] = []
        for name in reversed(names):  # listed in the order they were applied
            if name in ("gzip", "x-gzip"):
                self._stages.append(zlib.decompressobj(16 + zlib.MAX_WBITS))
            elif name == "deflate":
                self._stages.append(_Deflate())

    def decode(self, data: bytes, room: int) -> tuple[bytes, bool]:
        """Decode `data` into at most `room` bytes; True when there was more."""
        for stage in self._stages:
            if not data:
                return b"", False
            data = stage.decompress(data, room)
            if stage.unconsumed_tail or len(data) >= room:
                return data, True
        # identity (or an encoding kept as it came): the chunk itself may pass the cap
        return data[:room], len(data) >= room


class _Deflate:
    """`deflate` is zlib-wrapped by the RFC and raw in practice: try the one, then the other."""

    def __init__(self) -> None:
        self._inner = zlib.decompressobj()
        self._first = True

    @property
    def unconsumed_tail(self) -> bytes:
        return self._inner.unconsumed_tail

    def decompress(self, data: bytes, room: int) -> bytes:
        if self._first:
            self._first = False
            try:
                return self._inner.decompress(data, room)
            except zlib.error:
                self._inner = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._inner.decompress(data, room)


def read_capped(stream: Any, content_encoding: str | None, cap: int, stop: threading.Event | None = None) -> Body:
    """Read a raw (wire) byte stream, decoding as it goes, and stop past `cap`
    bytes on the wire or decoded. Keeps at most `cap` decoded bytes; past
    it, `decoded_bytes` says where the read stopped (`cap + 1` or more)."""
    decoder = _Decoder(content_encoding)
    # BytesIO, not bytearray: getvalue() hands over its buffer without the
    # copy bytes(bytearray) makes, so a body at the cap is held once, not twice
    kept = io.BytesIO()
    wire = 0
    try:
        for chunk in stream:
            if stop is not None and stop.is_set():
                break
            wire += len(chunk)
            data, more = decoder.decode(chunk, cap + 1 - kept.tell())
            kept.write(data)
            if more or wire > cap or kept.tell() > cap:
                decoded = kept.tell()
                kept.truncate(cap)  # in place: what is kept is the cap, with no copy of it made
                return Body(kept.getvalue(), wire, decoded, True)
    except zlib.error as exc:
        raise httpx.DecodingError(f"the body does not decode as its Content-Encoding says ({exc})") from None
    return Body(kept.getvalue(), wire, kept.tell(), False)


@dataclass
class _Outcome:
    response: httpx.Response | None = None
    body: Body | None = None
    error: BaseException | None = None
    socket: socket.socket | None = None


def run_exchange(
    inner: httpx.BaseTransport, request: httpx.Request, limits: Limits
) -> tuple[httpx.Response, Body, float]:
    """Send `request` through `inner` and read its answer within the deadline
    and the cap. Returns the (closed) response, what was read of its body, and
    how long it took. Raises ExchangeTimeout, TargetUnresponsive, or what the
    inner transport raised."""
    if limits.abandoned is not None:
        raise TargetUnresponsive(limits.abandoned, request=request)
    reason = limits.unresponsive()
    if reason is not None:
        raise TargetUnresponsive(reason.removeprefix("not run: "), request=request)
    budget, what = limits.exchange_budget()
    started = now()
    deadline = started + budget
    # every read and the connect also give up by the deadline, so an abandoned
    # worker does not outlive it by more than the one read it is in
    per_operation = max(budget, 0.001)
    request.extensions = {
        **request.extensions,
        "timeout": {"connect": per_operation, "read": per_operation, "write": per_operation, "pool": per_operation},
        "trace": _socket_catcher(request.extensions.get("trace")),
    }
    outcome = _Outcome()
    stop = threading.Event()
    done = threading.Event()

    def work() -> None:
        response = None
        try:
            response = inner.handle_request(request)
            outcome.response = response
            stream = response.extensions.get("network_stream")
            if stream is not None and outcome.socket is None:
                outcome.socket = _socket_of(stream)
            body = read_capped(
                response.stream, response.headers.get("content-encoding"), limits.max_response_bytes, stop
            )
            if not stop.is_set():  # abandoned at the deadline: nobody will read it
                outcome.body = body
        except BaseException as exc:  # handed to the caller, who decides
            outcome.error = exc
        finally:
            if response is not None:
                try:
                    # closing a half-read answer drops its connection: nothing reuses it
                    response.close()
                except Exception:
                    pass
            done.set()

    caught = request.extensions["trace"]
    caught.outcome = outcome  # type: ignore[attr-defined]
    _WORKERS.submit(work)
    finished = done.wait(max(deadline - now(), 0.0))
    # The request outlives the exchange (the answer and any exception carry
    # it). Left on its catcher, the outcome would close a cycle, request ->
    # outcome -> response -> request, and a cycle is freed only when the
    # cyclic GC next runs, which counts objects, not bytes: bodies at the cap
    # piled up by the dozen until then.
    caught.outcome = None
    if not finished:
        stop.set()
        _interrupt(outcome.socket)
        waited = now() - started
        limits.timed_out()
        raise ExchangeTimeout(
            f"no complete answer within {what}: waited {waited:.1f} s"
            + (f", {outcome.response.status_code} and part of a body received" if outcome.response else ""),
            request=request,
        )
    elapsed = now() - started
    if outcome.error is not None:
        if isinstance(outcome.error, httpx.TimeoutException):
            limits.timed_out()
            raise ExchangeTimeout(
                f"no complete answer within {what}: waited {elapsed:.1f} s ({outcome.error})", request=request
            ) from None
        raise outcome.error
    limits.answered()
    assert outcome.response is not None and outcome.body is not None
    _RECLAIMER.read(outcome.body.decoded_bytes)  # harness/body_memory.py: why
    return outcome.response, outcome.body, elapsed


_RECLAIMER = BodyReclaimer()


class _Workers:
    """Daemon threads that run exchanges, reused: starting a thread per
    exchange costs more than the exchange on loopback. Daemons, because a
    worker stuck in a read must never keep the process alive; one that is
    abandoned at a deadline is simply not counted idle until it returns."""

    def __init__(self) -> None:
        self._tasks: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, task: Callable[[], None]) -> None:
        with self._lock:
            spawn = self._idle == 0
            if not spawn:
                self._idle -= 1  # an idle worker will take it
        self._tasks.put(task)
        if spawn:
            threading.Thread(target=self._serve, name="bsk-exchange", daemon=True).start()

    def _serve(self) -> None:
        while True:
            self._tasks.get()()
            with self._lock:
                self._idle += 1


_WORKERS = _Workers()


class _SocketCatcher:
    """An httpcore trace hook that keeps the socket of a new connection, so a
    worker blocked before the answer's headers can still be interrupted."""

    def __init__(self, chained: Callable[..., Any] | None) -> None:
        self._chained = chained
        self.outcome: _Outcome | None = None

    def __call__(self, event_name: str, info: dict[str, Any]) -> None:
        if event_name.endswith("connect_tcp.complete") or event_name.endswith("start_tls.complete"):
            stream = info.get("return_value")
            if stream is not None and self.outcome is not None:
                self.outcome.socket = _socket_of(stream)
        if self._chained is not None:
            self._chained(event_name, info)


def _socket_catcher(chained: Callable[..., Any] | None) -> _SocketCatcher:
    return _SocketCatcher(chained)


def _socket_of(stream: Any) -> socket.socket | None:
    try:
        sock = stream.get_extra_info("socket")
    except Exception:
        return None
    return sock if isinstance(sock, socket.socket) else None


def _interrupt(sock: socket.socket | None) -> None:
    """Wake a worker blocked in recv: shutdown, unlike close, does that on every platform."""
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
