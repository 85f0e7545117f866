"""API-key management, for users only (contract §3, §4)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .. import errors
from ..clock import parse_timestamp
from ..keys import ApiKeyRecord
from ..models import CreateApiKeyBody
from ..parts import Parts
from ..principals import UserPrincipal
from .common import UserCaller, no_content, no_store, parts_of

router = APIRouter()


@router.post("/api-keys")
async def create_api_key(request: Request, caller: UserCaller) -> Response:
    parts = parts_of(request)
    body = await parts.bodies.parse(request, CreateApiKeyBody)
    expires_at = None
    if body.expiresAt is not None:
        try:
            expires_at = parse_timestamp(body.expiresAt)
        except (ValueError, OverflowError):
            raise errors.invalid_request("expiresAt: not an RFC 3339 date-time.") from None
        if expires_at <= parts.clock.now():
            raise errors.invalid_request("expiresAt: must be in the future.")
    record, key = parts.keys.create(
        organization_id=caller.organization_id,
        created_by=caller.user.id,
        name=body.name,
        scopes=body.scopes,
        rate_limit=body.rateLimit,
        expires_at=expires_at,
    )
    # The only response that ever carries the key.
    return no_store(parts.keys.describe(record, "created", key), status_code=201)


@router.get("/api-keys")
async def list_api_keys(request: Request, caller: UserCaller) -> dict[str, Any]:
    parts = parts_of(request)
    return {"data": [parts.keys.describe(r, "list") for r in parts.keys.list(caller.organization_id)]}


@router.get("/api-keys/{key_id}")
async def get_api_key(key_id: str, request: Request, caller: UserCaller) -> dict[str, Any]:
    parts = parts_of(request)
    return parts.keys.describe(_visible_key(parts, caller, key_id), "get")


@router.delete("/api-keys/{key_id}")
async def revoke_api_key(key_id: str, request: Request, caller: UserCaller) -> Response:
    parts = parts_of(request)
    parts.keys.revoke(_visible_key(parts, caller, key_id).id)
    return no_content()


def _visible_key(parts: Parts, caller: UserPrincipal, key_id: str) -> ApiKeyRecord:
    """The key ``key_id`` of the caller's organization; 404 alike for unknown and foreign keys."""
    record = parts.keys.get(key_id)
    if record is None:
        raise errors.not_found("API key")
    parts.policy.ensure_key_visible(caller, record)
    return record
