"""BSK-CLK-001 against remote targets: the check takes the deployment's
environment from the profile, so a live target exposing /_test/clock is
flagged, an honest live target passes, and a test target is not verified.

The detection matrix proves the in-process path (the harness deploys the
server build live itself); these runs prove the remote one, with the harness
pointed at a live reference server over HTTP, as an operator would run it.
"""

from __future__ import annotations

from pathlib import Path

from bsk_conformance.harness.requirements import load_catalogue
from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.background import BackgroundServer
from bsk_conformance.reference_server.clock import OffsetClock
from tests.faulty.runner import ROOT, run_harness

PROFILE = ROOT / "fixtures" / "reference-profile.toml"
RID = "BSK-CLK-001"


def _status(url: str, environment: str, tmp_path: Path) -> tuple[str, str]:
    profile = tmp_path / f"{environment}-profile.toml"
    profile.write_text(PROFILE.read_text().replace('environment = "test"', f'environment = "{environment}"'))
    run = run_harness(None, "--target", url, "--target-profile", str(profile), "--requirement", RID, timeout=300)
    assert run.result is not None, run.output[-3000:]
    return run.statuses()[RID], run.output


def test_a_live_target_exposing_clock_control_is_flagged(tmp_path):
    # the clock can move, and the routes are forced on: the documented fault
    app = create_app(Settings(environment="live", clock_routes=True), clock=OffsetClock())
    with BackgroundServer(app) as server:
        status, output = _status(server.url, "live", tmp_path)
    broken = "failed" if load_catalogue()[RID].level == "MUST" else "warning"
    assert status == broken, output[-3000:]


def test_an_honest_live_target_passes(tmp_path):
    with BackgroundServer(create_app(Settings(environment="live"))) as server:
        status, output = _status(server.url, "live", tmp_path)
    assert status == "passed", output[-3000:]


def test_a_remote_test_target_is_not_verified(tmp_path):
    # a test deployment (which offers clock control) cannot show what a live one does
    with BackgroundServer(create_app(Settings(environment="test"), clock=OffsetClock())) as server:
        status, output = _status(server.url, "test", tmp_path)
    assert status == "not_verified", output[-3000:]
