"""A remote conformance run against the reference server on loopback, with
clock control: direct, with a delay added to every answer (bench/delay_proxy.py),
and with that delay under `-n 2`; all in one invocation, side by side.

    python bench/remote_run.py [--delay-ms 20] [--repeat 1]
    python bench/remote_run.py --root /tmp/before --python /tmp/before/.venv/bin/python   # another checkout

Each run gets a fresh server (in this process, on a free loopback port), so
no run inherits another's moved clock or keys. `--root`/`--python` run the
harness of another checkout (e.g. `git archive 703add0`) against the same servers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from delay_proxy import DelayProxy  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def served(delay_ms: float) -> Iterator[str]:
    from bsk_conformance.reference_server import Settings, create_app
    from bsk_conformance.reference_server.background import BackgroundServer
    from bsk_conformance.reference_server.clock import OffsetClock

    with BackgroundServer(create_app(Settings(environment="test"), clock=OffsetClock())) as server:
        if not delay_ms:
            yield server.url
            return
        port = int(server.url.rsplit(":", 1)[1].rstrip("/"))
        with DelayProxy("127.0.0.1", port, delay_ms) as proxy:
            yield proxy.url


def run(root: Path, python: str, url: str, extra: tuple[str, ...]) -> tuple[float, dict, int]:
    profile = root / "fixtures" / "reference-profile.toml"
    with tempfile.TemporaryDirectory() as report_dir:
        started = time.perf_counter()
        done = subprocess.run(
            [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--report-dir", report_dir,
             "--target", url, "--target-profile", str(profile), *extra],
            cwd=root, capture_output=True, check=False, text=True,
        )
        elapsed = time.perf_counter() - started
        try:
            result = json.loads((Path(report_dir) / "conformance.json").read_text())
        except OSError:
            sys.exit(f"no report: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        return elapsed, result, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose harness runs")
    parser.add_argument("--python", default=sys.executable, help="its interpreter")
    parser.add_argument("--skip", action="append", default=[], help="leave out a mode (direct, delayed, parallel)")
    args = parser.parse_args()
    modes = {
        "direct": ("remote, clock control", 0.0, ()),
        "delayed": (f"remote, +{args.delay_ms:g} ms", args.delay_ms, ()),
        "parallel": (f"remote, +{args.delay_ms:g} ms, -n 2", args.delay_ms, ("-n", "2")),
    }
    figures: dict[str, float] = {}
    for name, (label, delay, extra) in modes.items():
        if name in args.skip:
            continue
        times = []
        for _ in range(args.repeat):
            with served(delay) as url:
                elapsed, result, code = run(args.root, args.python, url, extra)
            times.append(elapsed)
        figures[name] = statistics.median(times)
        summary = dict(result["summary"])
        exchanges = summary.pop("exchanges", "n/a")
        counts = ", ".join(f"{v} {k}" for k, v in summary.items() if v)
        print(f"{label:<28} {figures[name]:6.1f} s  (exit {code}, verdict {result['verdict']}, "
              f"{exchanges} exchanges, {counts})", flush=True)
    if "direct" in figures:
        for name in ("delayed", "parallel"):
            if name in figures:
                print(f"ratio {name} / direct: {figures[name] / figures['direct']:.2f}")
    if "delayed" in figures and "parallel" in figures:
        print(f"ratio parallel / delayed serial: {figures['parallel'] / figures['delayed']:.2f}")


if __name__ == "__main__":
    main()
