"""A remote conformance run against the reference server on loopback, with
clock control: direct, with a delay added to every answer (bench/delay_proxy.py),
and with that delay under `-n 2`; all in one invocation, side by side.

    python bench/remote_run.py [--delay-ms 20] [--repeat 1]
    python bench/remote_run.py --root /tmp/before --python /tmp/before/.venv/bin/python   # another checkout

Each run gets a fresh server (a process of its own, on a free loopback port;
the proxy another), so no run inherits another's moved clock or keys. `--root`/`--python` run the
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

ROOT = Path(__file__).resolve().parents[1]


SERVER = """
import threading
from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.background import BackgroundServer
from bsk_conformance.reference_server.clock import OffsetClock
with BackgroundServer(create_app(Settings(environment="test"), clock=OffsetClock())) as server:
    print(server.url, flush=True)
    threading.Event().wait()
"""


@contextmanager
def _process(command: list[str]) -> Iterator[str]:
    """A helper process that prints its URL on its first line; stopped after."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        yield process.stdout.readline().strip().rstrip("/")
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def served(delay_ms: float) -> Iterator[str]:
    """A fresh reference server (test clock) and, with a delay, the delay proxy
    in front of it: each in a process of its own, so neither shares an
    interpreter lock with the other, nor with this script."""
    with _process([sys.executable, "-c", SERVER]) as url:
        if not delay_ms:
            yield url
            return
        upstream = url.removeprefix("http://")
        proxy = [sys.executable, str(Path(__file__).with_name("delay_proxy.py")), "--upstream", upstream,
                 "--delay-ms", str(delay_ms)]
        with _process(proxy) as proxied:
            yield proxied


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
