"""Wall time of a full conformance run, three ways, and the time per area.

    python bench/conformance_run.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "fixtures" / "reference-profile.toml"


def run(*args: str) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as report_dir:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider", "--report-dir", report_dir, *args],
            cwd=ROOT, capture_output=True, check=False,
        )
        elapsed = time.perf_counter() - started
        return elapsed, json.loads((Path(report_dir) / "conformance.json").read_text())


def per_area(result: dict) -> dict[str, float]:
    from bsk_conformance.harness.requirements import load_catalogue

    catalogue = load_catalogue()
    seconds: dict[str, float] = defaultdict(float)
    for requirement in result["requirements"]:
        area = catalogue[requirement["id"]].area
        seconds[area] += sum(check["durationSeconds"] for check in requirement["checks"])
    return dict(sorted(seconds.items(), key=lambda kv: -kv[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from bsk_conformance.reference_server import Settings, create_app
    from bsk_conformance.reference_server.background import BackgroundServer
    from bsk_conformance.reference_server.clock import OffsetClock

    with BackgroundServer(create_app(Settings(environment="test"), clock=OffsetClock())) as server:
        modes = {
            "in-process, serial": (),
            "in-process, -n 2": ("-n", "2"),
            "remote, clock control": ("--target", server.url, "--target-profile", str(PROFILE)),
        }
        last: dict = {}
        for label, extra in modes.items():
            times = []
            for _ in range(args.repeat):
                elapsed, last = run(*extra)
                times.append(elapsed)
            checks = sum(len(r["checks"]) for r in last["requirements"])
            print(f"{label:<24} median {statistics.median(times):6.1f} s  (min {min(times):.1f}, max {max(times):.1f}; "
                  f"{len(last['requirements'])} requirements, {checks} checks, verdict {last['verdict']})")
    print("\ntime in checks per area (in-process, last serial run):")
    _, result = run()
    for area, seconds in per_area(result).items():
        print(f"  {area:<18} {seconds:6.2f} s")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
