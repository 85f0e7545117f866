"""Faults in the wire format (contract §2, §8): error bodies, Bearer challenges,
caching, malformed and oversized bodies, timestamps."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bsk_conformance.reference_server.bodies import BodyParser
from bsk_conformance.reference_server.clock import format_timestamp
from bsk_conformance.reference_server.errors import REALM, ErrorResponder
from bsk_conformance.reference_server.keys import ApiKeys
from tests.faulty.variant import Variant, swap

# -- ErrorResponder ---------------------------------------------------------------


class NoChallenge(ErrorResponder):
    def www_authenticate(self, error) -> str | None:
        return None


class ChallengeNeverNamesInvalidToken(ErrorResponder):
    def www_authenticate(self, error) -> str | None:
        return f'Bearer realm="{REALM}"' if self.status(error) == 401 else None


class ChallengeAlwaysNamesInvalidToken(ErrorResponder):
    def www_authenticate(self, error) -> str | None:
        return f'Bearer realm="{REALM}", error="invalid_token"' if self.status(error) == 401 else None


class NotFoundWithoutMessage(ErrorResponder):
    def body(self, error) -> dict[str, Any]:
        body = super().body(error)
        if self.status(error) == 404:
            body.pop("message")
        return body


# -- BodyParser -------------------------------------------------------------------


class BareJsonLoads(BodyParser):
    """Decodes with a bare json.loads: bad JSON escapes as an exception, a 500."""

    def decode(self, raw: bytes) -> Any:
        return json.loads(raw)


class CrashesOnLargeBodies(BodyParser):
    """Runs out of room on a large body instead of refusing it."""

    async def read(self, request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            raise MemoryError("request body too large for the buffer")
        return await super().read(request)


# -- ApiKeys ----------------------------------------------------------------------


class LocalTimeTimestamps(ApiKeys):
    """Writes createdAt and expiresAt in a local time zone (+01:00): RFC 3339, but not UTC."""

    def describe(self, record, view, key=None):
        body = super().describe(record, view, key)
        for name, value in (("createdAt", record.created_at), ("expiresAt", record.expires_at)):
            if value is not None:
                body[name] = format_timestamp(value + 3600).replace("Z", "+01:00")
        return body


# -- response headers (no part owns them: the routes set them) --------------------


class _DropHeader:
    """ASGI wrapper: removes one response header on the named operations."""

    def __init__(self, app: Any, header: str, operations: tuple[tuple[str, str], ...]) -> None:
        self.app = app
        self.header = header.lower().encode()
        self.operations = operations

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) not in self.operations:
            await self.app(scope, receive, send)
            return

        async def dropping(message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != self.header]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, dropping)


def without_header(header: str, *operations: tuple[str, str]) -> Callable[[Any, Any], Any]:
    """The honest server, with `header` dropped from the answers to `operations`."""

    def factory(settings: Any, clock: Any) -> Any:
        from bsk_conformance.reference_server import create_app

        return _DropHeader(create_app(settings, clock=clock), header, operations)

    return factory


TOKEN_ENDPOINTS = (("POST", "/auth/login"), ("POST", "/auth/refresh"))

VARIANTS = [
    Variant(
        name="wire_401_without_www_authenticate",
        breaks='401 responses to a bearer-protected request carry WWW-Authenticate: Bearer realm="bsk"',
        trips=("BSK-WIRE-002", "BSK-WIRE-003", "BSK-WIRE-004", "BSK-TOK-004"),
        factory=swap("errors", lambda p: NoChallenge()),
    ),
    Variant(
        name="wire_rejected_token_challenge_without_invalid_token",
        breaks='with error="invalid_token" when a token was sent but rejected',
        trips=("BSK-WIRE-004", "BSK-TOK-004"),
        factory=swap("errors", lambda p: ChallengeNeverNamesInvalidToken()),
    ),
    Variant(
        name="wire_invalid_token_named_without_credentials",
        breaks="a request that lacks any authentication information gets no error code (RFC 6750 §3.1)",
        trips=("BSK-WIRE-003",),
        factory=swap("errors", lambda p: ChallengeAlwaysNamesInvalidToken()),
    ),
    Variant(
        name="wire_not_found_without_message",
        breaks="every error body has error and message, whatever the status",
        trips=("BSK-WIRE-001",),
        factory=swap("errors", lambda p: NotFoundWithoutMessage()),
    ),
    Variant(
        name="wire_bad_json_is_500",
        breaks="malformed request bodies get 400 invalid_request, never 5xx",
        trips=("BSK-WIRE-007", "BSK-WIRE-008"),
        factory=swap("bodies", lambda p: BareJsonLoads(p.bodies.max_bytes)),
    ),
    Variant(
        name="wire_oversized_body_is_500",
        breaks="oversized bodies get 400 or 413, never 5xx",
        trips=("BSK-WIRE-009",),
        factory=swap("bodies", lambda p: CrashesOnLargeBodies(p.bodies.max_bytes)),
    ),
    Variant(
        name="wire_token_responses_without_no_store",
        breaks="token responses carry Cache-Control: no-store",
        trips=("BSK-WIRE-005",),
        factory=without_header("cache-control", *TOKEN_ENDPOINTS),
    ),
    Variant(
        name="wire_key_creation_without_no_store",
        breaks="the answer that shows a new key carries Cache-Control: no-store",
        trips=("BSK-WIRE-006",),
        factory=without_header("cache-control", ("POST", "/api-keys")),
    ),
    Variant(
        name="wire_timestamps_in_local_time",
        breaks="timestamps are RFC 3339 UTC strings",
        trips=("BSK-WIRE-010",),
        factory=swap("keys", lambda p: LocalTimeTimestamps(p.store, p.clock, p.settings.environment)),
    ),
]
