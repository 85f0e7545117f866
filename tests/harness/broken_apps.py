"""App factories for harness tests: the honest server with its transport
broken in one place (never a contract rule: that is tests/faulty's job)."""

from __future__ import annotations

from bsk_conformance.reference_server import create_app


def drops_connection_on_2fa_setup(settings, clock):
    """POST /auth/2fa/setup starts an answer, then the connection dies."""
    app = create_app(settings, clock=clock)

    async def broken(scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/auth/2fa/setup":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
            await send({"type": "http.response.body", "body": b'{"secret":', "more_body": True})
            raise ConnectionResetError("the connection died mid-answer")
        await app(scope, receive, send)

    return broken
