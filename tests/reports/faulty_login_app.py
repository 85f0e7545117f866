"""A faulty target for the real-run diff test: the reference server, but login
answers ``expiresIn: 3600`` (contract §3 says 900).

Loaded by the harness with ``--reference-factory faulty_login_app:create``. It
wraps the honest app in ASGI middleware rather than swapping a server part, so
it depends only on the app factory's documented signature.
"""

from __future__ import annotations

import json
from typing import Any

from bsk_conformance.harness.inprocess import default_factory


class WrongExpiresIn:
    """ASGI middleware rewriting the JSON body of ``POST …/auth/login`` responses."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith("/auth/login"):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            try:
                document = json.loads(body)
                if isinstance(document, dict) and "expiresIn" in document:
                    document["expiresIn"] = 3600
                    body = json.dumps(document).encode()
            except ValueError:
                pass
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


def create(settings: Any, clock: Any) -> Any:
    """App factory for ``--reference-factory``."""
    return WrongExpiresIn(default_factory(settings, clock))
