"""Every check can fail: each faulty variant is caught, by the right
requirement, and by nothing outside its declared blast radius; the honest
reference server gives no failure at all."""

from __future__ import annotations

import pytest

from bsk_conformance.harness.requirements import load_catalogue
from tests.faulty.registry import all_variants
from tests.faulty.runner import run_harness

VARIANTS = all_variants()
CATALOGUE = load_catalogue()


def _tail(output: str) -> str:
    return output[-3000:]


def test_the_reference_server_gives_no_failure():
    run = run_harness(None)
    assert run.result is not None, _tail(run.output)
    flagged = run.with_status("failed", "warning", "error")
    assert not flagged, f"the honest server was flagged on {sorted(flagged)}\n{_tail(run.output)}"
    assert run.result["verdict"] == "conformant" and run.exit_code == 0, _tail(run.output)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_is_caught_by_the_requirements_it_breaks(name):
    variant = VARIANTS[name]
    run = run_harness(variant)
    assert run.result is not None, _tail(run.output)
    flagged = run.with_status("failed", "warning")
    missed = sorted(set(variant.trips) - flagged)
    assert not missed, f"{name} ({variant.breaks}) was not caught by {missed}\n{_tail(run.output)}"
    stray = sorted(flagged - set(variant.trips) - set(variant.blast))
    assert not stray, f"{name}: requirements outside the blast radius failed: {stray}"
    # a fault that breaks a precondition (2FA cannot be turned on) may leave
    # dependent checks unable to judge: only inside the declared radius
    errors = sorted(run.with_status("error") - set(variant.blast))
    assert not errors, f"{name}: checks errored outside the blast radius: {errors}\n{_tail(run.output)}"
    if any(CATALOGUE[rid].level == "MUST" for rid in variant.trips):
        assert run.result["verdict"] == "non-conformant" and run.exit_code == 1
    else:
        assert run.result["summary"]["warning"] >= 1 and run.result["verdict"] != "non-conformant"
