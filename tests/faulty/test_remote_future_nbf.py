"""BSK-JWT-012 against a remote target: not verified, with its reason, never passed.

A remote target's clock only moves forward, so it never holds a genuinely
signed token with a future nbf, and a forged one is refused by any signature
check whatever the target makes of nbf. Presented remotely, forged tokens
passed a target that ignores nbf; this run shows that target, served over
HTTP as a vendor's would be, now gets "not verified" and not "passed" (the
detection matrix shows the in-process check catching the same fault).
"""

from __future__ import annotations

import dataclasses

from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.background import BackgroundServer
from bsk_conformance.reference_server.clock import OffsetClock
from bsk_conformance.reference_server.parts import Parts
from tests.faulty.runner import ROOT, run_harness
from tests.faulty.variants.jwt_attacks import FutureNbfAccepted

PROFILE = ROOT / "fixtures" / "reference-profile.toml"
RID = "BSK-JWT-012"


def test_a_remote_target_ignoring_nbf_is_not_verified_never_passed():
    settings, clock = Settings(environment="test"), OffsetClock()
    parts = Parts.build(settings, clock)
    parts = dataclasses.replace(parts, tokens=FutureNbfAccepted(parts.store, parts.clock))
    with BackgroundServer(create_app(parts=parts)) as server:
        run = run_harness(None, "--target", server.url, "--target-profile", str(PROFILE), "--requirement", RID,
                          timeout=300)
    assert run.result is not None, run.output[-3000:]
    [entry] = [r for r in run.result["requirements"] if r["id"] == RID]
    assert entry["status"] == "not_verified", run.output[-3000:]
    assert "only moves forward" in entry["reason"] and "forged" in entry["reason"], entry["reason"]
    # no remote target could ever show it: reported, but the run is not made incomplete by it
    assert entry["applicable"] is False
    # only this requirement ran: partial, and conformant as far as it went
    assert run.result["verdict"] == "partial" and run.exit_code == 0, run.output[-3000:]
    assert run.result["completeness"]["verdictOfRun"] == "conformant"
