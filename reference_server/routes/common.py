"""Helpers shared by the route modules."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..authentication import identify
from ..errors import ApiError
from ..parts import Parts
from ..principals import Principal, UserPrincipal
from ..throttle import LoginThrottle


def parts_of(request: Request) -> Parts:
    """The parts of the app serving ``request``."""
    parts: Parts = request.app.state.parts
    return parts


async def authenticated(request: Request) -> Principal:
    """The caller, by ``parts.credentials`` and ``identify``: 401 (or 400/429) before the route runs.

    ``async`` so that FastAPI runs it on the event loop, as the routes
    themselves, not in a worker thread.
    """
    return identify(parts_of(request), request)


#: A route's parameter of this type is the authenticated caller, user or key.
Caller = Annotated[Principal, Depends(authenticated)]


async def authenticated_user(request: Request, principal: Caller) -> UserPrincipal:
    """The caller of a user-only route (``parts.policy.require_user``): an API key gets 403."""
    return parts_of(request).policy.require_user(principal)


#: A route's parameter of this type is the authenticated user; keys are refused.
UserCaller = Annotated[UserPrincipal, Depends(authenticated_user)]


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
