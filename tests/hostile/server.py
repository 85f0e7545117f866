"""A hostile target: a proxy in front of the reference server that breaks one endpoint.

Every request is relayed to an honest upstream (the bundled reference server
on loopback), except the one `(method, path)` chosen, which gets the chosen
behaviour instead:

| behaviour     | what the target does |
|---------------|----------------------|
| trickle       | a 200 head, then one byte of body every `interval` seconds |
| big           | a 200 with `size` bytes of JSON, chunked |
| bomb          | a 200 with gzip that inflates to `size` bytes |
| reset         | a 200 head and part of the body, then a TCP reset |
| redirect      | a 302 to another origin (`trap`), carrying a token-shaped query |
| badbytes      | a 200 `application/json` body that is not UTF-8 |
| notjson       | a 200 `application/json` body that is not JSON, with no Content-Type |
| duplicate     | two conflicting Content-Type headers and two Content-Lengths |
| hugeheader    | a 200 with one header of `size` bytes |
| markup        | a 400 with markup and script in the reason phrase, headers, JSON keys and values, Location |
| padded        | the honest answer, its body padded with JSON whitespace to `size` bytes (the largest allowed) |

`trap` is a second listener, another origin: it records every connection and
the bytes sent to it, so a test can prove nothing was. Everything binds
127.0.0.1 on port 0, in a daemon thread of the test process (so the
harness's memory, measured as a child's, does not include this server's).
"""

from __future__ import annotations

import asyncio
import fnmatch
import socket
import struct
import threading
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

BEHAVIOURS = (
    "trickle",
    "big",
    "bomb",
    "reset",
    "redirect",
    "badbytes",
    "notjson",
    "duplicate",
    "hugeheader",
    "markup",
    "padded",
)
# what the markup behaviour puts in every field a target controls
MARKUP = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"><b id="injected">x</b>'
MARKUP_HEADER = "<script>window.__pwned=3</script><b id=injected>h</b>"
_HEAD_LIMIT = 1024 * 1024


@dataclass
class Trap:
    """The other origin: what reached it, connection by connection."""

    received: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            data = await asyncio.wait_for(reader.read(65536), 5)
        except (TimeoutError, ConnectionError):
            data = b""
        with self.lock:
            self.received.append(data)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        await _close(writer)


@dataclass
class Hostile:
    upstream: str  # http://127.0.0.1:port of the honest server
    # (method, path pattern) -> behaviour; the pattern is an fnmatch one on
    # the path after any prefix, e.g. ("GET", "/organization"), ("GET", "/projects/*")
    breaks: dict[tuple[str, str], str]
    size: int = 1024 * 1024
    interval: float = 0.5
    trap: Trap = field(default_factory=Trap)
    hits: dict[str, int] = field(default_factory=dict)
    url: str = ""
    trap_url: str = ""
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _bomb_bytes: bytes | None = None
    _serving: asyncio.Task | None = None

    def __post_init__(self) -> None:
        for behaviour in self.breaks.values():
            if behaviour not in BEHAVIOURS:
                raise ValueError(f"unknown behaviour {behaviour!r}; one of {', '.join(BEHAVIOURS)}")

    # -- life cycle ---------------------------------------------------------

    def start(self) -> Hostile:
        if "bomb" in self.breaks.values():
            self._bomb_bytes = gzip_bomb(self.size)
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            main = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            trap = await asyncio.start_server(self.trap.handle, "127.0.0.1", 0)
            self.url = f"http://127.0.0.1:{main.sockets[0].getsockname()[1]}"
            self.trap_url = f"http://127.0.0.1:{trap.sockets[0].getsockname()[1]}"
            ready.set()
            async with main, trap:
                await asyncio.gather(main.serve_forever(), trap.serve_forever())

        def run() -> None:
            loop = self._loop
            assert loop is not None
            asyncio.set_event_loop(loop)
            self._serving = loop.create_task(serve())
            try:
                loop.run_until_complete(self._serving)
            except asyncio.CancelledError:
                pass
            # connections still open (a trickle the client left) end here, not at interpreter exit
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

        self._thread = threading.Thread(target=run, name="bsk-hostile", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the hostile server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._serving is not None:
            self._loop.call_soon_threadsafe(self._serving.cancel)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> Hostile:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- one connection: one request (the proxy answers Connection: close) --

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        graceful = True
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            if len(head) > _HEAD_LIMIT:
                raise ConnectionError
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            length = 0
            for line in header_lines:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length) if length else b""
            behaviour = self._behaviour_for(method, urlsplit(target).path)
            if behaviour is not None:
                self.hits[behaviour] = self.hits.get(behaviour, 0) + 1
            if behaviour == "padded":
                await self._padded(head, body, writer)
            elif behaviour is not None:
                await getattr(self, "_" + behaviour)(writer)
            else:
                await self._relay(head, body, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        except asyncio.CancelledError:
            raise
        except GeneratorExit:
            # closed unfinished, its loop gone (a stop whose join timed out under load): a
            # coroutine may not await now ("coroutine ignored GeneratorExit"), so drop the socket
            graceful = False
            writer.transport.abort()
            raise
        finally:
            if graceful:
                await _close(writer)

    def _behaviour_for(self, method: str, path: str) -> str | None:
        for (wanted, pattern), behaviour in self.breaks.items():
            # the base URL may carry a prefix: match the pattern against the path's tail
            if method == wanted and any(
                fnmatch.fnmatchcase(path[i:], pattern) for i in range(len(path)) if path[i] == "/"
            ):
                return behaviour
        return None

    async def _relay(self, head: bytes, body: bytes, writer: asyncio.StreamWriter) -> None:
        async for chunk in self._upstream(head, body):
            # the honest answer keeps its framing; its Connection header says close
            writer.write(chunk)
            await writer.drain()

    async def _upstream(self, head: bytes, body: bytes) -> AsyncIterator[bytes]:
        """The honest server's answer to this request, as it comes."""
        parts = urlsplit(self.upstream)
        up_reader, up_writer = await asyncio.open_connection(parts.hostname, parts.port)
        hop_by_hop = (b"connection:", b"keep-alive")
        lines = [line for line in head.split(b"\r\n") if line and not line.lower().startswith(hop_by_hop)]
        up_writer.write(b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n" + body)
        await up_writer.drain()
        try:
            while chunk := await up_reader.read(65536):
                yield chunk
        finally:
            await _close(up_writer)

    async def _padded(self, head: bytes, body: bytes, writer: asyncio.StreamWriter) -> None:
        """The honest answer, status and headers kept, its body followed by
        spaces up to `size` bytes: still the same JSON document, so the
        checks go on as against an honest target, each reading `size` bytes."""
        answer = b"".join([chunk async for chunk in self._upstream(head, body)])
        answer_head, _, answer_body = answer.partition(b"\r\n\r\n")
        status_line, *header_lines = answer_head.split(b"\r\n")
        framing = (b"content-length:", b"transfer-encoding:", b"connection:")
        if any(line.lower().replace(b" ", b"") == b"transfer-encoding:chunked" for line in header_lines):
            answer_body = _dechunk(answer_body)
        kept = [line for line in header_lines if not line.lower().startswith(framing)]
        padding = max(self.size - len(answer_body), 0)
        writer.write(
            b"\r\n".join([status_line, *kept, b"Content-Length: %d" % (len(answer_body) + padding), b"Connection: close"])
            + b"\r\n\r\n"
            + answer_body
        )
        block = b" " * 65536
        while padding > 0:
            writer.write(block[: min(padding, len(block))])
            padding -= min(padding, len(block))
            await writer.drain()
        await writer.drain()

    # -- the behaviours -----------------------------------------------------

    async def _trickle(self, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
        await writer.drain()
        while True:  # until the client gives up and the write fails
            await asyncio.sleep(self.interval)
            writer.write(b" ")
            await writer.drain()

    async def _big(self, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        for chunk in json_array(self.size):
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def _bomb(self, writer: asyncio.StreamWriter) -> None:
        bomb = self._bomb_bytes
        assert bomb is not None
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: %d\r\n\r\n" % len(bomb)
        )
        for start in range(0, len(bomb), 65536):
            writer.write(bomb[start : start + 65536])
            await writer.drain()

    async def _reset(self, writer: asyncio.StreamWriter) -> None:
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"id": "')
        await writer.drain()
        sock = writer.get_extra_info("socket")
        # SO_LINGER 0: close() sends a RST instead of a FIN
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async def _redirect(self, writer: asyncio.StreamWriter) -> None:
        location = f"{self.trap_url}/collect?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl&next=1"
        writer.write(f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode("latin-1"))
        await writer.drain()

    async def _badbytes(self, writer: asyncio.StreamWriter) -> None:
        body = b'\xff\xfe{"id": "\xc3\x28\xa0\xa1", "name": "\xed\xa0\x80"}'
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()

    async def _notjson(self, writer: asyncio.StreamWriter) -> None:
        body = b"<html>this is not JSON</html>"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()

    async def _duplicate(self, writer: asyncio.StreamWriter) -> None:
        body = b'{"id": "x", "name": "y"}'
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Type: text/html\r\n"
            b"X-Dup: a\r\nX-Dup: b\r\nContent-Length: %d\r\nContent-Length: %d\r\n\r\n%s"
            % (len(body), len(body) + 5, body)
        )
        await writer.drain()

    async def _hugeheader(self, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Huge: ")
        for _ in range(self.size // 65536 + 1):
            writer.write(b"a" * 65536)
            await writer.drain()
        writer.write(b"\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()

    async def _markup(self, writer: asyncio.StreamWriter) -> None:
        import json

        body = json.dumps({"error": MARKUP, "message": MARKUP, MARKUP: MARKUP, "nested": {MARKUP: [MARKUP]}}).encode()
        reason = MARKUP_HEADER.replace("\r", "").replace("\n", "")
        writer.write(
            (
                f"HTTP/1.1 400 {reason}\r\nContent-Type: application/json\r\n"
                f"X-Markup: {MARKUP_HEADER}\r\nLocation: javascript:{MARKUP_HEADER}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode("latin-1")
            + body
        )
        await writer.drain()


def _dechunk(data: bytes) -> bytes:
    """The payload of a complete chunked body."""
    out, rest = [], data
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out.append(rest[:size])
        rest = rest[size + 2 :]
    return b"".join(out)


def json_array(total: int, chunk: int = 65536) -> Iterator[bytes]:
    """`total` bytes of one valid JSON document, `{"data": [...]}`, in chunks."""
    item = b'{"id": "00000000-0000-0000-0000-000000000000", "name": "filler"},'
    yield b'{"data": ['
    sent = 10
    batch = item * max(1, chunk // len(item))
    while sent + len(batch) + 2 < total:
        yield batch
        sent += len(batch)
    yield b'{"id": "last"}]}'


def gzip_bomb(inflated: int) -> bytes:
    """gzip that inflates to `inflated` bytes of spaces (valid JSON whitespace)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * (1024 * 1024)
    out = [compressor.compress(b"{")]
    left = inflated - 2
    while left > 0:
        piece = block if left >= len(block) else block[:left]
        out.append(compressor.compress(piece))
        left -= len(piece)
    out.append(compressor.compress(b"}"))
    out.append(compressor.flush())
    return b"".join(out)


async def _close(writer: asyncio.StreamWriter) -> None:
    try:
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), 2)
    except (ConnectionError, TimeoutError, OSError, asyncio.CancelledError):
        pass
