"""An ASGI wrapper for the reference server served on loopback, so a test can
stop the harness at a known point of a run: it holds one answer until the
test releases it, and it keeps every secret the server issued.

Holding an answer (not guessing a moment) is what makes "kill the run while
2FA is on" deterministic: the target is in the state the test named, and the
harness is blocked waiting, when `held` is set.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

# (method, path, status) of an answer -> whether to hold it
Rule = Callable[[str, str, int], bool]
CREDENTIALS = ("accessToken", "refreshToken", "key")


class Gate:
    """Holds the first answer `rule` picks (or the first request after it,
    with `hold_next`), and records the secrets in every answer."""

    def __init__(self, app: Any, rule: Rule | None = None, *, hold_next: bool = False) -> None:
        self.app = app
        self.rule = rule
        self.hold_next = hold_next
        self.held = threading.Event()
        self.release = threading.Event()
        self.issued: set[str] = set()  # every token and API key the server answered
        self.totp_secrets: set[str] = set()  # every 2FA setup's secret
        self._armed = False  # hold_next: the rule's answer went out, hold the next request

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if self._armed and not self.held.is_set():
            await self._hold()
        chunks: list[bytes] = []

        async def sending(message: dict) -> None:
            if message["type"] == "http.response.start":
                if self.rule is not None and not self.held.is_set() and self.rule(method, path, message["status"]):
                    if self.hold_next:
                        self._armed = True
                    else:
                        await self._hold()
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    self._keep_secrets(b"".join(chunks))
            await send(message)

        await self.app(scope, receive, sending)

    async def _hold(self) -> None:
        self.held.set()
        # the server's other requests go on; only this one waits (bounded, in case a test fails first)
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 300)

    def _keep_secrets(self, body: bytes) -> None:
        try:
            document = json.loads(body)
        except ValueError:
            return
        if isinstance(document, dict):
            self.issued.update(v for k, v in document.items() if k in CREDENTIALS and isinstance(v, str))
            if isinstance(document.get("secret"), str):
                self.totp_secrets.add(document["secret"])
