"""2FA on real TOTP steps: a target served without clock control (the
reference server's live environment: no /_test/clock), `--clock real` and a
small budget. Nothing moves the target's clock, so each fresh code waits for
the next 30 s step for real.

Each run waits real steps (a code for enable, a fresh one for the login, two
more to turn 2FA off again; the first run also hands 2FA on from one check to
the next), so there are two of them, and they are part of the suite: they prove what no frozen clock can,
that the harness's steps and the target's agree on a real clock."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.background import BackgroundServer
from bsk_conformance.reference_server.clock import SystemClock
from tests.faulty.variants.two_factor import VARIANTS
from tests.harness.conftest import PROFILE

pytestmark = pytest.mark.waits_real_time

#: enable, the handover's login, a fresh code, two steps to turn 2FA off: five steps at most, and margin
BUDGET = "210"
#: the run's bound: the waiting, the preflight, and a slow shared machine
RUN_BOUND = 400
STEP = re.compile(r"TOTP code of step T=(\d+) \(\S+\), ([+-]\d+) from the target's now \(T=(\d+)")


@contextmanager
def _served(factory: Callable[[Settings, SystemClock], object]) -> Iterator[str]:
    with BackgroundServer(factory(Settings(environment="live"), SystemClock())) as server:
        yield server.url


@pytest.fixture(scope="module")
def live_profile(tmp_path_factory) -> str:
    """The bundled accounts, for a live deployment (bsk_live_ keys)."""
    path = tmp_path_factory.mktemp("live") / "live-profile.toml"
    path.write_text(PROFILE.read_text().replace('environment = "test"', 'environment = "live"'))
    return str(path)


def _honest(settings: Settings, clock: SystemClock) -> object:
    return create_app(settings, clock=clock)


def _variant(name: str) -> Callable[[Settings, SystemClock], object]:
    return next(v.factory for v in VARIANTS if v.name == name)


def _real_two_factor_run(run_harness, url: str, profile: str, *rids: str):
    chosen = [arg for rid in rids for arg in ("--requirement", rid)]
    return run_harness(
        "--target", url, "--target-profile", profile, "--clock", "real", "--real-time-budget", BUDGET,
        *chosen, timeout=RUN_BOUND,
    )  # fmt: skip


def test_a_two_factor_check_passes_on_real_totp_steps(run_harness, live_profile) -> None:
    """BSK-TFA-002 (a wrong code) and BSK-TFA-004 (a replayed code) against the
    honest server: both pass, on one enable of 2FA that the first hands on to
    the second (harness/two_factor.py KeptTwoFactor), turned off after it.
    BSK-TFA-004's evidence places every code it sent on its step: a fresh
    code is of the step the request was sent in (give or take a boundary
    crossed on the way), and each accepted code's step
    is later than the one before (the target accepts each step once)."""
    with _served(_honest) as url:
        run = _real_two_factor_run(run_harness, url, live_profile, "BSK-TFA-002", "BSK-TFA-004")
        alice = tomllib.loads(Path(live_profile).read_text())["accounts"][0]
        plain = httpx.post(f"{url}/auth/login", json={"email": alice["email"], "password": alice["password"]})
    assert run.exit_code == 0, run.output[-3000:]
    assert "clock: real" in run.output, run.output[-3000:]
    assert run.status("BSK-TFA-002") == run.status("BSK-TFA-004") == "passed", run.output[-3000:]
    exchanges = [e for r in run.result["requirements"] for check in r["checks"] for e in check["evidence"]]
    enables = [e for e in exchanges if e["url"].endswith("/auth/2fa/enable")]
    disables = [e for e in exchanges if e["url"].endswith("/auth/2fa/disable")]
    assert len(enables) == 1 and len(disables) == 1, "the two checks did not share one enable"
    assert plain.status_code == 200, "2FA was left on after the run"
    (requirement,) = [r for r in run.result["requirements"] if r["id"] == "BSK-TFA-004"]
    coded = [e for check in requirement["checks"] for e in check["evidence"] if "TOTP code" in (e.get("note") or "")]
    # enable, the fresh code's login, its replay, and the disable at least
    assert len(coded) >= 4, coded
    accepted = []
    for exchange in coded:
        match = STEP.search(exchange["note"])
        assert match, exchange["note"]
        step, distance, now_step = int(match[1]), int(match[2]), int(match[3])
        sent_step = int(datetime.fromisoformat(exchange["startedAt"].replace("Z", "+00:00")).timestamp() // 30)
        # made just before it was sent and judged just after: a step boundary may fall in between
        assert sent_step - 1 <= step <= sent_step and distance in (0, -1) and now_step == step - distance, exchange
        if exchange["status"] in (200, 204):
            accepted.append(step)
    assert len(accepted) >= 3 and accepted == sorted(set(accepted)), accepted
    # real steps went by: the codes span more than one
    assert accepted[-1] - accepted[0] >= 2, accepted


def test_a_replayed_code_accepted_is_flagged_on_real_totp_steps(run_harness, live_profile) -> None:
    """The faulty variant that accepts a code twice, served live: BSK-TFA-004 fails."""
    with _served(_variant("totp_code_accepted_twice")) as url:
        run = _real_two_factor_run(run_harness, url, live_profile, "BSK-TFA-004")
    assert run.exit_code == 1, run.output[-3000:]
    assert run.status("BSK-TFA-004") == "failed", run.output[-3000:]
