"""Helpers shared by the route modules."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import ApiError
from ..parts import Parts
from ..throttle import LoginThrottle


def parts_of(request: Request) -> Parts:
    """The parts of the app serving ``request``."""
    parts: Parts = request.app.state.parts
    return parts


def no_store(body: Any, status_code: int = 200) -> JSONResponse:
    """A response holding a secret (tokens, a new key, a TOTP secret): never cached (RFC 6749 §5.1)."""
    return JSONResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})


def no_content() -> Response:
    return Response(status_code=204)


@contextmanager
def counted_as_login_failure(throttle: LoginThrottle, email: str) -> Iterator[None]:
    """Any error inside counts as one failed login for ``email``."""
    try:
        yield
    except ApiError:
        throttle.record_failure(email)
        raise
