"""A loopback TCP proxy that holds every answer back by N ms: a staging
server across a network, on one machine.

    python bench/delay_proxy.py --upstream 127.0.0.1:8000 --delay-ms 20   # prints its URL

Byte-transparent (HTTP/1.1 keep-alive and pipelining pass as they are): after
the client sends (a request), the first bytes the upstream sends back (its
answer) wait `delay` before they are forwarded; the rest of that answer
follows at once. So each request/answer round trip gets `delay` added once,
as a network's round trip would. It listens on 127.0.0.1 only, on a free port.
"""

from __future__ import annotations

import argparse
import asyncio
import threading


class DelayProxy:
    """Runs in a thread of its own; `url` once started."""

    def __init__(self, upstream_host: str, upstream_port: int, delay_ms: float) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._delay = delay_ms / 1000
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="delay-proxy")
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            client_writer.close()
            return
        asked = asyncio.Event()  # set when the client sent since the last answer began

        async def requests() -> None:
            while data := await client_reader.read(65536):
                asked.set()
                upstream_writer.write(data)
                await upstream_writer.drain()
            upstream_writer.close()

        async def answers() -> None:
            while data := await upstream_reader.read(65536):
                if asked.is_set():
                    asked.clear()
                    await asyncio.sleep(self._delay)
                client_writer.write(data)
                await client_writer.drain()
            client_writer.close()

        await asyncio.gather(requests(), answers(), return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, metavar="HOST:PORT", help="a loopback address")
    parser.add_argument("--delay-ms", type=float, default=20.0)
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        parser.error("--upstream must be on loopback (127.0.0.1 or localhost)")
    with DelayProxy(host, int(port), args.delay_ms) as proxy:
        print(proxy.url, flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
