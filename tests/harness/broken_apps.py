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


def refresh_lifetime_restarts_and_tokens_noted(settings, clock):
    """tests/faulty's `refresh_lifetime_restarts_on_rotation` (BSK-REF-004
    fails: a refresh past the family's 7 days answers HTTP 200 with a token
    pair, which the failure message quotes), writing every token it issues,
    one a line, to the file $BSK_TEST_ISSUED_TOKENS, so that a test can look
    for them in what the harness printed and wrote."""
    import os
    from dataclasses import replace

    from bsk_conformance.reference_server.parts import Parts
    from tests.faulty.variants.refresh import LifetimeFromLastRotation

    noted = os.environ["BSK_TEST_ISSUED_TOKENS"]

    class Noted(LifetimeFromLastRotation):
        def _pair(self, *args, **kwargs):
            pair = super()._pair(*args, **kwargs)
            with open(noted, "a", encoding="utf-8") as out:
                out.write(f"{pair.access_token}\n{pair.refresh_token}\n")
            return pair

    parts = Parts.build(settings, clock)
    return create_app(parts=replace(parts, tokens=Noted(parts.store, parts.clock)))
