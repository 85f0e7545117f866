"""Serve an app with uvicorn in a daemon thread, on a socket bound here.

This is how the harness and the tests talk HTTP to an in-process server
(whose clock they can still move directly)::

    with BackgroundServer(create_app(clock=FrozenClock(1_800_000_000))) as server:
        httpx.get(server.url + "/me")
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import Any

import uvicorn


class ServerStartError(RuntimeError):
    """The server thread died or did not start in time."""


class BackgroundServer:
    """uvicorn on ``host:port`` (port 0 = any free port) in a daemon thread."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        start_timeout: float = 10.0,
        tls: dict[str, Any] | None = None,
    ) -> None:
        self.app = app
        # uvicorn's ssl_certfile, ssl_keyfile, ssl_ca_certs, ssl_cert_reqs: serve HTTPS
        self.tls = dict(tls or {})
        self.host = host
        self.port = port
        self.start_timeout = start_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server (no trailing slash)."""
        if self._socket is None:
            raise RuntimeError("the server is not running")
        host, port = self._socket.getsockname()[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def start(self) -> BackgroundServer:
        if self._thread is not None:
            raise RuntimeError("already started")
        # Binding here, before the thread starts, means "port in use" is an
        # OSError in the caller, and port 0 is resolved before anyone asks for .url.
        # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets
        # that say they are TCP, and accepted sockets inherit the listener's
        # proto. Without it every answer stalls ~40 ms (Nagle vs delayed ACK).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        sock.listen(128)
        self._socket = sock
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,  # URLs could carry secrets; never log them
            lifespan="off",
            timeout_graceful_shutdown=1,
            **self.tls,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="bsk-reference-server", daemon=True)
        self._thread.start()
        self._wait_started()
        return self

    def _run(self) -> None:
        assert self._server is not None and self._socket is not None
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as exc:  # reported to the starting thread
            self._error = exc

    def _wait_started(self) -> None:
        """Block until uvicorn reports it is serving (bounded by ``start_timeout``)."""
        assert self._server is not None and self._thread is not None
        stopped = threading.Event()
        waited = 0.0
        while not self._server.started:
            if not self._thread.is_alive() or waited >= self.start_timeout:
                self.stop()
                raise ServerStartError(f"the server did not start: {self._error!r}")
            # Real server start-up: poll uvicorn's flag in short, bounded waits.
            stopped.wait(0.01)
            waited += 0.01

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread (quickly: idle connections are closed)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = None
        self._socket = None

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
