"""The application factory: parts in, ASGI app out."""

from __future__ import annotations

import logging

from fastapi import APIRouter, FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import errors
from .clock import AdjustableClock, Clock, OffsetClock, SystemClock
from .errors import ApiError
from .parts import Parts
from .principals import RATE_LIMIT_SCOPE_KEY
from .ratelimit import RateDecision
from .routes import CONTRACT_ROUTERS, TEST_CLOCK_ROUTER
from .settings import Settings

logger = logging.getLogger("bsk_conformance.reference_server")


def default_clock(settings: Settings) -> Clock:
    """A ticking clock that ``/_test/clock`` can move in test; plain system time in live."""
    return OffsetClock() if settings.mounts_clock_routes else SystemClock()


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, parts: Parts | None = None
) -> FastAPI:
    """Build the reference server.

    Give ``settings`` (and optionally ``clock``) for the honest server, or a
    fully built ``parts`` (see :mod:`reference_server.parts`) for a variant.
    """
    if parts is None:
        settings = settings or Settings()
        parts = Parts.build(settings, clock if clock is not None else default_clock(settings))
    elif (settings is not None and settings != parts.settings) or (clock is not None and clock is not parts.clock):
        raise ValueError("pass either settings and clock, or parts, not both")

    app = FastAPI(
        title="BSK reference server",
        # The contract's OpenAPI is written by hand and served by discovery.py.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
    )
    app.state.parts = parts
    prefix = parts.settings.base_path
    routers = list(CONTRACT_ROUTERS)
    if parts.settings.mounts_clock_routes and isinstance(parts.clock, AdjustableClock):
        routers.append(TEST_CLOCK_ROUTER)
    for router in routers:
        app.include_router(router, prefix=prefix)

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return parts.errors.render(exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        # Starlette's own 404/405 (no such route or method), as JSON errors.
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 405:
            # Starlette's own Allow names only the last route tried for the
            # path; RFC 9110 §15.5.6 wants every method the resource serves.
            return parts.errors.render(errors.method_not_allowed(allowed_methods(routers, request.scope, prefix)))
        if exc.status_code == 404:
            return parts.errors.render(errors.not_found("endpoint"))
        return parts.errors.render(ApiError(exc.status_code, "http_error", str(exc.detail)))

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        return parts.errors.render(errors.invalid_request("The request is malformed."))

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    # Added first = innermost: the catch-all sees exceptions before the
    # rate-limit headers are added, so even a 500 to a key carries them.
    app.add_middleware(CatchAll, responder=parts.errors)
    app.add_middleware(RateLimitHeaders)
    return app


def allowed_methods(routers: list[APIRouter], scope: Scope, prefix: str = "") -> str:
    """``Allow`` for the request's path: the methods of every route of
    ``routers`` whose path matches it (Match.PARTIAL: the path, not the method).

    The routers the app was built from, not ``app.routes``: FastAPI wraps
    included routers in objects of its own that do not say their methods.
    Their paths are unprefixed, so the request's path is matched without the
    base path the routers were mounted under."""
    path = scope.get("path", "")
    if prefix and path.startswith(prefix):
        path = path[len(prefix) :] or "/"
    # a bare scope: FastAPI leaves per-request routing context in the real one,
    # which makes its routes answer for the route that was tried, not the path
    scope = {"type": "http", "path": path, "root_path": "", "method": scope.get("method", "GET")}
    methods: set[str] = set()
    for router in routers:
        for route in router.routes:
            served = getattr(route, "methods", None)
            if served and route.matches(scope)[0] is not Match.NONE:
                methods |= served
    return ", ".join(sorted(methods))


class RateLimitHeaders:
    """Adds ``X-RateLimit-*`` to every response of a key-authenticated request.

    ``authentication.identify`` leaves the key's :class:`RateDecision` in the
    request scope; whatever answer follows (200, 403, 429, ...) gets the headers.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            decision = scope.get(RATE_LIMIT_SCOPE_KEY)
            if message["type"] == "http.response.start" and isinstance(decision, RateDecision):
                extra = [(k.lower().encode(), v.encode()) for k, v in decision.headers().items()]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CatchAll:
    """Last resort: an unexpected exception becomes a JSON 500, logged without secrets.

    Only the exception's type and the route are logged. Not the message,
    not the traceback's locals, not the query string or body: any of them
    could hold a password, token or key.
    """

    def __init__(self, app: ASGIApp, responder: errors.ErrorResponder) -> None:
        self.app = app
        self.responder = responder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            route = getattr(scope.get("route"), "path", "<no route>")
            logger.error("unhandled %s in %s %s", type(exc).__name__, scope.get("method"), route)
            if not started:
                await self.responder.render(errors.internal_error())(scope, receive, send)
