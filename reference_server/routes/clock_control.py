"""``GET``/``POST /_test/clock`` (contract §6): mounted in the test environment only.

Deliberately absent from the OpenAPI description, so a fuzzer never moves time.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from .. import errors
from ..clock import AdjustableClock, format_timestamp
from ..models import AdvanceClockBody
from .common import parts_of

router = APIRouter()

#: The clock may not be moved past this (year 9000): far enough for any
#: test, and short of where timestamps stop being printable.
_LATEST = 221_845_392_000.0


@router.get("/_test/clock")
async def read_clock(request: Request) -> dict[str, Any]:
    return {"now": format_timestamp(parts_of(request).clock.now())}


@router.post("/_test/clock")
async def advance_clock(request: Request) -> dict[str, Any]:
    parts = parts_of(request)
    body = await parts.bodies.parse(request, AdvanceClockBody)
    clock = parts.clock
    assert isinstance(clock, AdjustableClock)  # only mounted for such clocks
    if clock.now() + body.advanceSeconds > _LATEST:
        raise errors.invalid_request("advanceSeconds: would move the clock past the year 9000.")
    return {"now": format_timestamp(clock.advance(body.advanceSeconds))}
