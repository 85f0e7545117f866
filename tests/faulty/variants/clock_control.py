"""Faults in test-environment clock control (contract §6)."""

from __future__ import annotations

import dataclasses
from typing import Any

from tests.faulty.variant import Variant, swap


def clock_routes_in_every_environment(settings: Any, clock: Any) -> Any:
    """The server mounts /_test/clock whatever the environment: in live too.

    This is the documented way to break the rule (docs/reference-server.md:
    `Settings(environment="live", clock_routes=True)`); in the harness's own
    test deployment it changes nothing, in the live deployment it starts
    in-process it exposes clock control."""
    from bsk_conformance.reference_server import create_app

    return create_app(dataclasses.replace(settings, clock_routes=True), clock=clock)


class AdvanceIgnored:
    """The server's clock as /_test/clock sees it: it reads the time, but an
    advance asked over HTTP does not move it (the harness still moves the
    frozen clock underneath directly, so everything else keeps working)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def now(self) -> float:
        return self._inner.now()

    def advance(self, seconds: float) -> float:
        return self._inner.now()


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
        factory=swap("clock", lambda p: AdvanceIgnored(p.clock)),
    ),
]
