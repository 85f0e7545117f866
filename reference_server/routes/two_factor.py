"""2FA management for the calling user (contract §3)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ..models import CodeBody
from ..principals import identify
from .common import no_content, no_store, parts_of

router = APIRouter()


@router.post("/auth/2fa/setup")
async def setup(request: Request) -> Response:
    parts = parts_of(request)
    caller = parts.policy.require_user(identify(parts, request))
    secret, uri = parts.two_factor.setup(caller.user)
    return no_store({"secret": secret, "otpauthUri": uri})


@router.post("/auth/2fa/enable")
async def enable(request: Request) -> Response:
    parts = parts_of(request)
    caller = parts.policy.require_user(identify(parts, request))
    body = await parts.bodies.parse(request, CodeBody)
    parts.two_factor.enable(caller.user, body.code)
    return no_content()


@router.post("/auth/2fa/disable")
async def disable(request: Request) -> Response:
    parts = parts_of(request)
    caller = parts.policy.require_user(identify(parts, request))
    body = await parts.bodies.parse(request, CodeBody)
    parts.two_factor.disable(caller.user, body.code)
    return no_content()
