"""Contract §6 — Test-environment clock control (optional for targets).

   "A target in the test environment MAY expose:
      GET /_test/clock → {now} (the server's notion of now)
      POST /_test/clock {advanceSeconds} → {now}: moves the server's clock forward
    It MUST be off in production (bsk_live_) deployments: there it answers 404."

Which deployment the target is comes from its profile (`environment`, §7).
Against a remote test deployment the live rule cannot be shown, and is not
verified. In-process the harness owns the deployment: it starts the same
server build a second time as a live deployment (given a clock that could
move, so nothing but the environment keeps clock control off) and asks it.

Whether a test target offers clock control is its choice (MAY); when it does,
the operations must do what §6 says, since every time-dependent verdict of a
remote run rests on them.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bsk_conformance.harness.expect import expect, expect_json_object, expect_status
from bsk_conformance.harness.inprocess import resolve_factory
from bsk_conformance.harness.profile import Profile
from bsk_conformance.harness.target import Target
from bsk_conformance.harness.verdicts import not_verified

from ._wire import is_rfc3339_utc, timestamp

CLOCK = "/_test/clock"
ADVANCE = 60  # seconds: one rate-limit window, two TOTP steps


def _expect_no_clock_control(target: Target, where: str) -> None:
    for method, kwargs in (("GET", {}), ("POST", {"json": {"advanceSeconds": 0}})):
        context = f"{method} {CLOCK} on {where}"
        with target.evidence.note(context):
            response = target.request(method, CLOCK, **kwargs)
        expect_status(response, 404, context=context)


@contextmanager
def _live_deployment(request: pytest.FixtureRequest, target: Target) -> Iterator[Target]:
    """The in-process server build (the same --reference-factory), deployed live."""
    from bsk_conformance.reference_server import Settings
    from bsk_conformance.reference_server.background import BackgroundServer
    from bsk_conformance.reference_server.clock import FrozenClock

    factory = resolve_factory(request.config.getoption("reference_factory"))
    with tempfile.TemporaryDirectory(prefix="bsk-live-") as directory:
        accounts = Path(directory) / "accounts.toml"
        accounts.write_text("# no accounts: this deployment is only asked about /_test/clock\n")
        settings = Settings(environment="live", database=Path(directory) / "live.sqlite3", accounts_file=accounts)
        app = factory(settings, FrozenClock(float(int(time.time()))))
        profile = Profile("live", target.profile.accounts, "the in-process server build, deployed live")
        with BackgroundServer(app) as server:
            live = Target(server.url, profile, target.evidence, timeout=10.0, in_process=True)
            try:
                yield live
            finally:
                live.close()


@pytest.mark.requirement("BSK-CLK-001")
def test_a_live_deployment_answers_404_to_clock_control(target, request):
    if target.in_process:
        with _live_deployment(request, target) as live:
            _expect_no_clock_control(live, "the in-process server build deployed live")
    elif target.profile.environment == "live":
        _expect_no_clock_control(target, "a live deployment (profile environment = live)")
    else:
        not_verified('only a live deployment can show this: the profile says environment = "test"')


def _now(response: httpx.Response, context: str) -> float:
    expect_status(response, 200, context=context)
    body = expect_json_object(response, context)
    now = body.get("now")
    expect(is_rfc3339_utc(now), '{"now": an RFC 3339 UTC date-time}', repr(now), context)
    return timestamp(now)


@pytest.mark.requirement("BSK-CLK-002")
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
