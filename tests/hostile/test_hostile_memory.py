"""Memory bounded for the whole run, not per exchange: a target answering
every `GET /projects` with the largest body allowed (--max-response-bytes,
10 MB by default), over dozens of exchanges, must not push the harness's peak
past a few hundred MB. Measured as the hostile tests measure it: the child's
own peak RSS (os.wait4).

The padding is JSON whitespace after the honest answer, so every check goes
on as against an honest target, each `GET /projects` read and judged whole:
the memory is that of the bodies, not of checks that stopped at the first.
"""

from __future__ import annotations

from pathlib import Path

from bsk_conformance.harness.limits import DEFAULT_MAX_RESPONSE_BYTES

from .conftest import run_harness

PADDED = ("GET", "/projects")
# Requirements that send GET /projects often: the rate-limit checks (one key's
# budget, spent and refreshed; a concurrent burst of 15), the scope checks,
# and the stateless schema fuzzing. ~70 answers of 10 MB, ~700 MB in all.
REQUIREMENTS = (
    ["BSK-FUZZ-001"]
    + [f"BSK-RL-{n:03d}" for n in range(1, 11)]
    + [f"BSK-SCP-{n:03d}" for n in range(1, 15)]
)
# Measured with this test: 545 MB before the bodies were freed with their
# answers (a reference cycle kept each until the cyclic GC ran, and glibc kept
# what was freed), 222 MB after; 119 MB for this selection against the honest target.
PEAK_BOUND_MB = 400
BOUND = 300.0  # seconds: the run takes ~30 s on a loaded machine; a hang would be killed here


def test_the_largest_body_on_every_get_projects_keeps_the_peak_bounded(hostile, tmp_path: Path) -> None:
    proxy = hostile({PADDED: "padded"}, size=DEFAULT_MAX_RESPONSE_BYTES)
    selection = [arg for rid in REQUIREMENTS for arg in ("--requirement", rid)]
    run = run_harness(proxy.url, tmp_path / "report", *selection, bound=BOUND)
    if run.peak_mb is not None:
        assert run.peak_mb < PEAK_BOUND_MB, f"peak memory {run.peak_mb:.0f} MB"
    assert "Traceback" not in run.output, run.output[-3000:]
    from bsk_conformance.reports import validate

    validate(run.result)
    assert proxy.hits["padded"] >= 50, proxy.hits  # the scenario happened: dozens of 10 MB answers
    for rid in REQUIREMENTS:  # each read and judged whole: whitespace changes no verdict
        assert run.requirement(rid)["status"] == "passed", run.requirement(rid)
    evidence = [
        e for c in run.checks() for e in c["evidence"] if e["method"] == "GET" and e["url"].endswith("/projects")
    ]
    assert evidence and all(e.get("responseBytes") == DEFAULT_MAX_RESPONSE_BYTES for e in evidence if e["status"])
    assert all(len(e["responseBody"]) <= 16 * 1024 for e in evidence)
