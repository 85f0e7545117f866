"""Peak memory and wall time of a run against a hostile target, at the issue's full sizes.

    python bench/hostile_memory.py [--body-mb 400] [--bomb-gb 2]

The reference server sits behind tests/hostile's proxy, which breaks
`GET /organization` (BSK-EP-002's two checks; BSK-EP-001 and BSK-EP-003 run
around them): first not at all (the baseline), then with a chunked JSON body
of --body-mb, then with gzip that inflates to --bomb-gb. The harness runs as
a child process with its defaults (--max-response-bytes 10 MB); its peak RSS
comes from os.wait4, so it is the child's alone.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SELECT = ("--requirement", "BSK-EP-001", "--requirement", "BSK-EP-002", "--requirement", "BSK-EP-003")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--body-mb", type=int, default=400)
    parser.add_argument("--bomb-gb", type=float, default=2.0)
    args = parser.parse_args()

    from bsk_conformance.reference_server import Settings, create_app
    from bsk_conformance.reference_server.background import BackgroundServer
    from tests.hostile.conftest import run_harness
    from tests.hostile.server import Hostile

    cases = [
        ("honest target (baseline)", {}, 0),
        (f"{args.body_mb} MB JSON body, chunked", {("GET", "/organization"): "big"}, args.body_mb * 1024 * 1024),
        (
            f"gzip inflating to {args.bomb_gb:g} GB",
            {("GET", "/organization"): "bomb"},
            int(args.bomb_gb * 1024 * 1024 * 1024),
        ),
    ]
    print(f"{'target':<60} {'peak RSS':>10} {'vs baseline':>12} {'wall':>8}  exit  BSK-EP-002")
    with (
        tempfile.TemporaryDirectory() as scratch,
        BackgroundServer(
            create_app(Settings(environment="test", database=Path(scratch) / "reference.sqlite3"))
        ) as upstream,
    ):
        baseline = None
        for label, breaks, size in cases:
            prepared = time.perf_counter()
            proxy = Hostile(upstream.url, breaks, size=max(size, 1)).start()
            if "bomb" in breaks.values():
                wire = len(proxy._bomb_bytes or b"")
                label += f" ({wire / 1024 / 1024:.1f} MB on the wire, built in {time.perf_counter() - prepared:.0f} s)"
            try:
                run = run_harness(proxy.url, Path(scratch) / f"report-{len(label)}", *SELECT, bound=900)
            finally:
                proxy.stop()
            peak = run.peak_mb or 0.0
            baseline = baseline or peak
            status = run.requirement("BSK-EP-002")
            reason = status["reason"] or status["status"]
            message = reason[reason.find("read stopped") :] if "read stopped" in reason else reason[:80]
            figures = f"{peak:>7.0f} MB {peak / baseline:>11.2f}x {run.seconds:>6.1f} s  {run.exit_code:>4}"
            print(f"{label:<60} {figures}  {message}")


if __name__ == "__main__":
    main()
