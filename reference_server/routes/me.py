"""The caller and their organization (contract §3)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from .. import errors
from ..principals import KeyPrincipal
from .common import Caller, parts_of

router = APIRouter()


@router.get("/me")
async def me(principal: Caller) -> dict[str, Any]:
    """The universal authenticated probe: any valid token or key may ask who it is."""
    if isinstance(principal, KeyPrincipal):
        return {
            "type": "api_key",
            "keyId": principal.key.id,
            "organizationId": principal.organization_id,
            "scopes": list(principal.key.scopes),
        }
    user = principal.user
    return {
        "type": "user",
        "userId": user.id,
        "email": user.email,
        "organizationId": user.organization_id,
        "twoFactorEnabled": user.two_factor_enabled,
    }


@router.get("/organization")
async def organization(request: Request, principal: Caller) -> dict[str, Any]:
    parts = parts_of(request)
    parts.policy.require_scope(principal, "organization:read")
    org = parts.accounts.organization(principal.organization_id)
    if org is None:
        raise errors.not_found("organization")
    return {"id": org.id, "name": org.name}
