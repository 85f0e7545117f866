"""Contract §6 — Test-environment clock control (optional for targets).

   "A target in the test environment MAY expose:
      GET /_test/clock → {now} (the server's notion of now)
      POST /_test/clock {advanceSeconds} → {now}: moves the server's clock forward
    It MUST be off in production (bsk_live_) deployments: there it answers 404."

Which deployment the target is comes from its profile (`environment`, §7).
Against a remote test deployment the live rule cannot be shown, and is not
verified. In-process the harness owns the deployment: the `live_deployment`
fixture (harness/deployments.py) starts the same server build a second time as
a live deployment (given a clock that could move, so nothing but the
environment keeps clock control off), and the check asks it.

Whether a test target offers clock control is its choice (MAY); when it does,
the operations must do what §6 says, since every time-dependent verdict of a
remote run rests on them.
"""

from __future__ import annotations

import time

import httpx

from bsk_conformance.harness.api import (
    Target,
    expect,
    expect_json_object,
    expect_status,
    is_rfc3339_utc,
    not_verified,
    parse_rfc3339,
    requirement,
)

CLOCK = "/_test/clock"
ADVANCE = 60  # seconds: one rate-limit window, two TOTP steps


def _expect_no_clock_control(target: Target, where: str) -> None:
    for method, kwargs in (("GET", {}), ("POST", {"json": {"advanceSeconds": 0}})):
        context = f"{method} {CLOCK} on {where}"
        with target.evidence.note(context):
            response = target.request(method, CLOCK, **kwargs)
        expect_status(response, 404, context=context)


@requirement("BSK-CLK-001")
def test_a_live_deployment_answers_404_to_clock_control(live_deployment):
    if live_deployment.in_process:
        _expect_no_clock_control(live_deployment, "the in-process server build deployed live")
    else:
        _expect_no_clock_control(live_deployment, "a live deployment (profile environment = live)")


def _now(response: httpx.Response, context: str) -> float:
    expect_status(response, 200, context=context)
    body = expect_json_object(response, context)
    now = body.get("now")
    expect(is_rfc3339_utc(now), '{"now": an RFC 3339 UTC date-time}', repr(now), context)
    return parse_rfc3339(now)


@requirement("BSK-CLK-002")
def test_clock_control_moves_the_clock_forward_by_advance_seconds(target, clock):
    if not target.capabilities.clock_control:
        not_verified(f"the target offers no clock control (GET {CLOCK} answered no {{now}}): §6 makes it optional")
    if clock.name not in ("control", "frozen"):
        not_verified(
            f"this run moves time by --clock {clock.name}: moving the target's clock as well would "
            "put it out of step with the harness"
        )
    tolerance = clock.tolerance
    # a clock that keeps ticking (§8) also moves by the real time the requests take
    started = time.monotonic()
    before = _now(target.get(CLOCK), f"GET {CLOCK}")
    context = f"POST {CLOCK} {{advanceSeconds: {ADVANCE}}}"
    with target.evidence.note(context):
        moved = _now(target.post(CLOCK, json={"advanceSeconds": ADVANCE}), context)
    elapsed = time.monotonic() - started
    expect(
        ADVANCE - tolerance <= moved - before <= ADVANCE + elapsed + tolerance,
        f"now {ADVANCE} s later (±{tolerance:g} s, plus the {elapsed:.3f} s the requests took)",
        f"now {moved - before:+.3f} s later",
        context,
    )
    started = time.monotonic()
    after = _now(target.get(CLOCK), f"GET {CLOCK} after the advance")
    elapsed = time.monotonic() - started
    expect(
        moved - tolerance <= after <= moved + elapsed + tolerance,
        f"the now the advance answered (±{tolerance:g} s, plus the {elapsed:.3f} s the request took)",
        f"{after - moved:+.3f} s from it",
        f"GET {CLOCK} after the advance",
    )
