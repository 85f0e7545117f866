"""A remote conformance run against the reference server on loopback, with
clock control: direct, then with a delay added to every answer
(bench/delay_proxy.py), serially and under `-n 2`; all in one invocation,
side by side, with the exchanges of each run and those on its critical path.

    python bench/remote_run.py [--delay-ms 20 --delay-ms 50] [--workers 2 --workers 4] [--repeat 1] [--baseline REV]
    python bench/remote_run.py --root /tmp/before --python /tmp/before/.venv/bin/python   # another checkout

Each run gets a fresh server (a process of its own, on a free loopback port;
the proxy another), so no run inherits another's moved clock or keys.
`--baseline REV` runs that revision's harness (extracted with `git archive`,
as bench/conformance_run.py does) against the same kind of server, alternating
with this tree mode by mode, and prints the ratio. `--root`/`--python` run the
harness of another checkout instead of this one.

The critical path is the longest chain of exchanges that must follow one
another: over a network each costs at least the round trip, so it bounds the
run's wall time from below (chain x delay) whatever `-n` is."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
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


def run(
    root: Path, python: str, url: str, extra: tuple[str, ...], env: dict[str, str] | None = None
) -> tuple[float, dict, int]:
    profile = root / "fixtures" / "reference-profile.toml"
    with tempfile.TemporaryDirectory() as report_dir:
        started = time.perf_counter()
        done = subprocess.run(
            [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--report-dir", report_dir,
             "--target", url, "--target-profile", str(profile), *extra],
            cwd=root, capture_output=True, check=False, text=True, env=env or None,
        )
        elapsed = time.perf_counter() - started
        try:
            result = json.loads((Path(report_dir) / "conformance.json").read_text())
        except OSError:
            sys.exit(f"no report: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        return elapsed, result, done.returncode


def critical_path(result: dict) -> int:
    """Exchanges on the run's critical path: the longest chain of exchanges each
    sent after the one before it was answered (the greatest set of pairwise
    non-overlapping intervals, found greedily by end time). Times are kept to
    the millisecond, so an exchange starting within 1 ms of the previous end
    counts as after it; measured at +N ms, every exchange lasts more than that."""
    seen: set[tuple] = set()
    intervals: list[tuple[float, float]] = []
    for requirement in result["requirements"]:
        for check in requirement["checks"]:
            for exchange in check.get("evidence", []):
                key = (exchange["startedAt"], exchange["method"], exchange["url"], exchange["durationSeconds"])
                if key in seen:  # one shared run's exchanges attached to several checks
                    continue
                seen.add(key)
                started = datetime.fromisoformat(exchange["startedAt"].replace("Z", "+00:00")).timestamp()
                intervals.append((started, started + exchange["durationSeconds"]))
    chain, end = 0, float("-inf")
    for started, ended in sorted(intervals, key=lambda interval: interval[1]):
        if started >= end - 0.001:
            chain, end = chain + 1, ended
    return chain


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay-ms", type=float, action="append", help="delays to add (default 20 and 50)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--baseline", help="also run the harness of this git revision, alternating with this tree (ratios)"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose harness runs")
    parser.add_argument("--python", default=sys.executable, help="its interpreter")
    parser.add_argument("--skip", action="append", default=[], help="leave out a mode (direct, serial, parallel)")
    parser.add_argument(
        "--workers", type=int, action="append", help="xdist workers of the parallel modes (default 2; repeatable)"
    )
    args = parser.parse_args()
    workers = args.workers or [2]
    delays = args.delay_ms or [20.0, 50.0]
    modes: dict[str, tuple[float, tuple[str, ...]]] = {}
    if "direct" not in args.skip:
        modes["remote, loopback"] = (0.0, ())
        if "parallel" not in args.skip:
            for n in workers:
                modes[f"remote, loopback, -n {n}"] = (0.0, ("-n", str(n)))
    for delay in delays:
        if "serial" not in args.skip:
            modes[f"remote, +{delay:g} ms"] = (delay, ())
        if "parallel" not in args.skip:
            for n in workers:
                modes[f"remote, +{delay:g} ms, -n {n}"] = (delay, ("-n", str(n)))
    with ExitStack() as stack:
        trees = {"this tree": (args.root, {})}
        if args.baseline:
            from conformance_run import baseline_tree  # bench/ is on sys.path when run as a script

            tree = stack.enter_context(baseline_tree(args.baseline))
            trees = {tree.label: (tree.root, tree.env), **trees}
        figures: dict[tuple[str, str], float] = {}
        for label, (delay, extra) in modes.items():
            for tree_label, (root, env) in trees.items():
                times = []
                for _ in range(args.repeat):
                    with served(delay) as url:
                        elapsed, result, code = run(root, args.python, url, extra, env)
                    times.append(elapsed)
                figures[(label, tree_label)] = statistics.median(times)
                summary = dict(result["summary"])
                exchanges = summary.pop("exchanges", "n/a")
                counts = ", ".join(f"{v} {k}" for k, v in summary.items() if v)
                print(
                    f"{label:<24} {tree_label:<22} {figures[(label, tree_label)]:6.1f} s  (exit {code}, "
                    f"{result['verdict']}, {exchanges} exchanges, {critical_path(result)} on the critical path; "
                    f"{counts})",
                    flush=True,
                )
            if len(trees) == 2:
                before, after = (figures[(label, t)] for t in trees)
                print(f"{'':<24} ratio this tree / baseline: {after / before:.2f}", flush=True)
        for tree_label in trees:
            loopback = figures.get(("remote, loopback", tree_label))
            for label, _ in modes.items():
                if loopback and label != "remote, loopback":
                    print(f"{tree_label}: {label} / loopback serial: {figures[(label, tree_label)] / loopback:.2f}")


if __name__ == "__main__":
    main()
