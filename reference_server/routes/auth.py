"""Login, refresh and logout (contract §3, §4)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .. import errors
from ..models import LoginBody, RefreshBody
from .common import UserCaller, counted_as_login_failure, no_content, no_store, parts_of

router = APIRouter()


@router.post("/auth/login")
async def login(request: Request) -> Response:
    parts = parts_of(request)
    body = await parts.bodies.parse(request, LoginBody)
    parts.throttle.check(body.email)
    with counted_as_login_failure(parts.throttle, body.email):
        # Argon2 is deliberately slow: keep it off the event loop.
        user = await run_in_threadpool(parts.accounts.authenticate, body.email, body.password)
    # Only after the password is right may the answer mention 2FA.
    if parts.two_factor.required_for(user):
        if body.twoFactorCode is None:
            raise errors.two_factor_required()
        with counted_as_login_failure(parts.throttle, body.email):
            parts.two_factor.verify_login(user, body.twoFactorCode)
    parts.throttle.record_success(body.email)
    return no_store(parts.tokens.issue_pair(user.id, user.organization_id).body())


@router.post("/auth/refresh")
async def refresh(request: Request) -> Response:
    parts = parts_of(request)
    body = await parts.bodies.parse(request, RefreshBody)
    return no_store(parts.tokens.refresh(body.refreshToken).body())


@router.post("/auth/logout")
async def logout(request: Request, caller: UserCaller) -> Response:
    parts = parts_of(request)
    body = await parts.bodies.parse(request, RefreshBody)
    parts.tokens.logout(caller.user.id, body.refreshToken)
    return no_content()
