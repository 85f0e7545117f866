"""Public documents: the JWKS (contract §4) and the OpenAPI description."""

from __future__ import annotations

import importlib.resources
import json
from functools import cache
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from .common import parts_of

router = APIRouter()


@cache
def contract_openapi() -> dict[str, Any]:
    """``fixtures/contract-openapi.json``: the contract as OpenAPI 3.1, written by hand."""
    text = importlib.resources.files("bsk_conformance.fixtures").joinpath("contract-openapi.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@router.get("/.well-known/jwks.json")
async def jwks(request: Request) -> dict[str, Any]:
    return parts_of(request).tokens.jwks()


@router.get("/openapi.json")
async def openapi() -> dict[str, Any]:
    return contract_openapi()
