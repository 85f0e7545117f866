"""A loopback HTTP listener that serves an attacker's keys and counts who asks.

The `jku` and `x5u` attacks point a token's header at a URL the harness
controls. A careful server refuses the token without fetching the URL; a
server that fetches it shows up here as a hit. The listener binds
127.0.0.1 on an ephemeral port, runs in a daemon thread, and is shut down
when the `with` block ends. Nothing waits: after the target has answered,
the check reads the hit counter.
"""

from __future__ import annotations

import ipaddress
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

LOOPBACK_HOST = "127.0.0.1"


class KeyUrlListener:
    """Serves `documents` ({path: (content type, body)}) and records every request."""

    def __init__(self, documents: dict[str, tuple[str, bytes]]) -> None:
        self._documents = documents
        self._lock = threading.Lock()
        self._hits: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def url(self, path: str) -> str:
        assert self._server is not None, "the listener is not running"
        return f"http://{LOOPBACK_HOST}:{self._server.server_address[1]}{path}"

    @property
    def hits(self) -> list[str]:
        """Each request seen so far, as "METHOD /path"."""
        with self._lock:
            return list(self._hits)

    def _record(self, line: str) -> None:
        with self._lock:
            self._hits.append(line)

    def __enter__(self) -> KeyUrlListener:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 5  # a client that connects and says nothing cannot hold the thread

            def _answer(self, with_body: bool) -> None:
                listener._record(f"{self.command} {self.path}")
                document = listener._documents.get(urlsplit(self.path).path)
                if document is None:
                    self.send_error(404)
                    return
                content_type, body = document
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self._answer(True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._answer(False)

            def do_POST(self) -> None:  # noqa: N802
                self._answer(True)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return None  # keep the run's output clean

        server = ThreadingHTTPServer((LOOPBACK_HOST, 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  name="bsk-key-url-listener", daemon=True)
        thread.start()
        self._server, self._thread = server, thread
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None


def is_loopback(base_url: str) -> bool:
    """Whether the target runs on this machine, where it can reach 127.0.0.1 of ours."""
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
