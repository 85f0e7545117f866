"""Observed times judged without moving the target's clock (`--clock off`),
against a target served over HTTP as a vendor's would be.

The test clock of a served variant is frozen while the HTTP server's `Date`
header keeps the host's time, so the window must come from `GET /_test/clock`
(read, never moved): the honest server passes, and a token service 300 s
behind is caught by its iat alone, while the lifetime check that needs the
clock moved is not verified, never passed.
"""

from __future__ import annotations

from tests.faulty.registry import all_variants
from tests.faulty.runner import run_harness

RUN = ("--clock", "off", "--requirement", "BSK-OBS-001", "--requirement", "BSK-OBS-002",
       "--requirement", "BSK-OBS-003")


def _statuses(variant_name: str | None) -> dict[str, str]:
    variant = all_variants()[variant_name] if variant_name else None
    run = run_harness(variant, *RUN, leg="remote", timeout=300)
    assert run.result is not None, run.output[-3000:]
    return {r["id"]: r["status"] for r in run.result["requirements"] if r["id"] in RUN}


def test_the_honest_server_passes_by_its_clock_control_read_not_its_date_header():
    statuses = _statuses(None)
    assert statuses == {"BSK-OBS-001": "passed", "BSK-OBS-002": "not_verified", "BSK-OBS-003": "passed"}


def test_a_token_service_300_s_behind_is_caught_without_moving_the_clock():
    statuses = _statuses("access_token_backdated_300s")
    assert statuses["BSK-OBS-001"] == "failed"
    assert statuses["BSK-OBS-002"] == "not_verified"
