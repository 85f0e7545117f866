"""2FA management for the calling user (contract §3)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ..models import CodeBody
from ..principals import UserPrincipal
from .common import UserCaller, no_content, no_store, parts_of

router = APIRouter()


@router.post("/auth/2fa/setup")
async def setup(request: Request, caller: UserCaller) -> Response:
    secret, uri = parts_of(request).two_factor.setup(caller.user)
    return no_store({"secret": secret, "otpauthUri": uri})


@router.post("/auth/2fa/enable")
async def enable(request: Request, caller: UserCaller) -> Response:
    return await _switch(request, caller, on=True)


@router.post("/auth/2fa/disable")
async def disable(request: Request, caller: UserCaller) -> Response:
    return await _switch(request, caller, on=False)


async def _switch(request: Request, caller: UserPrincipal, *, on: bool) -> Response:
    """Turn 2FA on or off with a current code: ``two_factor.enable`` or ``.disable`` decides."""
    parts = parts_of(request)
    body = await parts.bodies.parse(request, CodeBody)
    change = parts.two_factor.enable if on else parts.two_factor.disable
    change(caller.user, body.code)
    return no_content()
