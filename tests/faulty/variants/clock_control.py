"""Faults in test-environment clock control (contract §6)."""

from __future__ import annotations

import dataclasses
from typing import Any

from tests.faulty.variant import Variant


def clock_routes_in_every_environment(settings: Any, clock: Any) -> Any:
    """The server mounts /_test/clock whatever the environment: in live too.

    This is the documented way to break the rule (docs/reference-server.md:
    `Settings(environment="live", clock_routes=True)`); in the harness's own
    test deployment it changes nothing, in the live deployment it starts
    in-process it exposes clock control."""
    from bsk_conformance.reference_server import create_app

    return create_app(dataclasses.replace(settings, clock_routes=True), clock=clock)


class AdvanceIgnored:
    """ASGI wrapper: POST /_test/clock answers the current time, 200, and moves
    nothing. The server's own clock is untouched, so in-process the harness
    still moves it directly and everything else keeps working; a remote
    harness can only notice that the advance did not happen."""

    def __init__(self, app: Any, clock: Any) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) != ("POST", "/_test/clock"):
            await self.app(scope, receive, send)
            return
        from starlette.responses import JSONResponse

        from bsk_conformance.reference_server.clock import format_timestamp

        await JSONResponse({"now": format_timestamp(self.clock.now())})(scope, receive, send)


def clock_control_advance_ignored(settings: Any, clock: Any) -> Any:
    from bsk_conformance.reference_server import create_app

    app = create_app(settings, clock=clock)
    # only where clock control is offered at all: a live deployment keeps its 404
    return AdvanceIgnored(app, clock) if settings.mounts_clock_routes else app


VARIANTS = [
    Variant(
        name="clock_control_answers_in_live",
        breaks="clock control MUST be off in production (bsk_live_) deployments: there it answers 404",
        trips=("BSK-CLK-001",),
        factory=clock_routes_in_every_environment,
    ),
    Variant(
        name="clock_control_advance_ignored",
        breaks="POST /_test/clock {advanceSeconds} moves the server's clock forward",
        trips=("BSK-CLK-002",),
        factory=clock_control_advance_ignored,
    ),
]
