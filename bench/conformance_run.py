"""Wall time of a full conformance run: the in-process run against a baseline
revision side by side, then serial, `-n 2` and remote, and the time per area.

    python bench/conformance_run.py [--repeat N] [--baseline REV] [--inprocess-only]
    python bench/conformance_run.py --cold-start [--repeat N] [--baseline REV]

The in-process, whole-catalogue run (`pytest` in the checkout, as CI runs it)
is measured for this tree and for `--baseline` (a git revision, default
703add0: main before issue 13), extracted with `git archive` to a temporary
directory and imported from there. The two alternate run by run, so a noisy
machine slows both alike; the figure is the ratio of the medians. Start-up
alone (`--collect-only`: imports and collection, nothing sent) is compared the
same way.

`--cold-start` measures what a CI machine or a Docker image pays: every run a
fresh interpreter with `PYTHONDONTWRITEBYTECODE=1` and no bytecode cache of
the project's own modules (both trees are swept of `__pycache__` first; the
installed packages keep the bytecode pip wrote), against `--baseline`
(default 1d4bd5d, main before issue 24): start-up (`--collect-only`), then
the whole catalogue, side by side, as ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness_command import harness_command  # noqa: E402

PROFILE = ROOT / "fixtures" / "reference-profile.toml"
BASELINE = "703add0"
COLD_BASELINE = "1d4bd5d"


@dataclass
class Tree:
    """A checkout to run the harness from, and the environment that makes
    `bsk_conformance` import from it (not from the editable install)."""

    label: str
    root: Path
    env: dict[str, str] | None = None


@dataclass
class Timing:
    wall: float
    cpu: float  # the child's user + system time
    result: dict | None


def run(tree: Tree, *args: str, report: bool = True) -> Timing:
    """One harness run in a child process, timed (wall and the child's CPU)."""
    with tempfile.TemporaryDirectory() as report_dir:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            harness_command(*args, report_dir=report_dir),
            cwd=tree.root,
            env=tree.env,
            capture_output=True,
            check=False,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        path = Path(report_dir) / "conformance.json"
        result = json.loads(path.read_text()) if report and path.is_file() else None
        return Timing(wall, cpu, result)


@contextmanager
def baseline_tree(rev: str) -> Iterator[Tree]:
    """`rev` extracted to a temporary directory, its folders mapped under
    `bsk_conformance` as pyproject's package-dir maps them (symbolic links),
    and put first on PYTHONPATH: the editable install's finder comes after."""
    with tempfile.TemporaryDirectory(prefix="bsk-bench-") as tmp:
        root = Path(tmp)
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
        archive_path = root / "rev.tar"
        archive_path.write_bytes(archive)
        with tarfile.open(archive_path) as tar:
            tar.extractall(root / "src", filter="data")
        src = root / "src"
        mapping = tomllib.loads((src / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
        for name, folder in mapping.items():
            parts = name.split(".")
            if len(parts) == 2 and not (src / "bsk_conformance" / parts[1]).exists():
                (src / "bsk_conformance" / parts[1]).symlink_to(src / folder, target_is_directory=True)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])}
        yield Tree(f"baseline {rev}", src, env)


def side_by_side(
    current: Tree, baseline: Tree, repeat: int, *args: str, report: bool = True
) -> dict[str, list[Timing]]:
    timings: dict[str, list[Timing]] = {baseline.label: [], current.label: []}
    for _ in range(repeat):
        for tree in (baseline, current):  # alternate: noise hits both alike
            timings[tree.label].append(run(tree, *args, report=report))
    return timings


def show(title: str, timings: dict[str, list[Timing]]) -> None:
    print(title)
    medians: dict[str, tuple[float, float]] = {}
    for label, runs in timings.items():
        walls, cpus = [t.wall for t in runs], [t.cpu for t in runs]
        medians[label] = statistics.median(walls), statistics.median(cpus)
        last = runs[-1].result
        verdict = f"; {sum(len(r['checks']) for r in last['requirements'])} checks, {last['verdict']}" if last else ""
        print(
            f"  {label:<22} wall median {medians[label][0]:6.2f} s (min {min(walls):.2f}, max {max(walls):.2f}), "
            f"CPU median {statistics.median(cpus):6.2f} s{verdict}"
        )
    (base, (base_wall, base_cpu)), (label, (wall, cpu)) = medians.items()
    print(f"  ratio {label} / {base}: wall {wall / base_wall:.2f}, CPU {cpu / base_cpu:.2f}")


def without_bytecode(tree: Tree) -> Tree:
    """The same tree, run with `PYTHONDONTWRITEBYTECODE=1` and its own modules'
    bytecode caches removed: every run compiles them, as on a fresh machine."""
    for cache in tree.root.rglob("__pycache__"):
        if ".venv" not in cache.parts:
            for compiled in cache.glob("*.pyc"):
                compiled.unlink()
    env = {**(tree.env or os.environ), "PYTHONDONTWRITEBYTECODE": "1"}
    return Tree(f"{tree.label}, cold", tree.root, env)


def cold_start(rev: str, repeat: int) -> None:
    current = without_bytecode(Tree("this tree", ROOT))
    with baseline_tree(rev) as tree:
        baseline = without_bytecode(tree)
        start_up = side_by_side(current, baseline, repeat, "--collect-only", report=False)
        show("cold start-up, PYTHONDONTWRITEBYTECODE=1: imports and collection (pytest --collect-only)", start_up)
        whole = side_by_side(current, baseline, repeat)
        show("cold, PYTHONDONTWRITEBYTECODE=1: the whole catalogue in-process (pytest)", whole)
    before, after = (runs[-1].result for runs in whole.values())
    if before and after:
        old, new = statuses(before), statuses(after)
        changed = sorted(rid for rid in old.keys() & new.keys() if old[rid] != new[rid])
        print(
            f"  requirements in both: {len(old.keys() & new.keys())}, their statuses changed: "
            f"{', '.join(changed) or 'none'}; only in this tree: {len(new.keys() - old.keys())}"
        )


def statuses(result: dict) -> dict[str, str]:
    return {r["id"]: r["status"] for r in result["requirements"]}


def fuzz_budgets(before: int, after: int, *, repeat: int) -> None:
    """Schema fuzzing's four checks at two budgets, side by side (this tree)."""
    current = Tree("this tree", ROOT)
    timings: dict[str, list[Timing]] = {f"--fuzz-examples {before}": [], f"--fuzz-examples {after}": []}
    for _ in range(repeat):
        for label in timings:
            timings[label].append(run(current, "-k", "schema_fuzz", *label.split()))
    show("schema fuzzing alone (pytest -k schema_fuzz), two budgets", timings)


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
    parser.add_argument(
        "--baseline",
        help=f"git revision to compare with (default {BASELINE}; {COLD_BASELINE} with --cold-start)",
    )
    parser.add_argument(
        "--cold-start",
        action="store_true",
        help="instead: fresh interpreters with PYTHONDONTWRITEBYTECODE=1, start-up and whole run, against the baseline",
    )
    parser.add_argument("--inprocess-only", action="store_true", help="only the side-by-side in-process figures")
    parser.add_argument(
        "--fuzz-budgets",
        metavar="N,M",
        help="instead: schema fuzzing alone (-k schema_fuzz) in this tree at --fuzz-examples N against M",
    )
    args = parser.parse_args()

    if args.fuzz_budgets:
        fuzz_budgets(*(int(n) for n in args.fuzz_budgets.split(",")), repeat=args.repeat)
        return

    if args.cold_start:
        cold_start(args.baseline or COLD_BASELINE, args.repeat)
        return

    current = Tree("this tree", ROOT)
    with baseline_tree(args.baseline or BASELINE) as baseline:
        start_up = side_by_side(current, baseline, args.repeat, "--collect-only", report=False)
        show("start-up: imports and collection (pytest --collect-only)", start_up)
        whole = side_by_side(current, baseline, args.repeat)
        show("in-process, the whole catalogue (pytest)", whole)
    last = whole[current.label][-1].result
    if last:
        print("\ntime in checks per area (in-process, this tree, last run):")
        for area, seconds in per_area(last).items():
            print(f"  {area:<18} {seconds:6.2f} s")
    if args.inprocess_only:
        return

    from bsk_conformance.reference_server import Settings, create_app
    from bsk_conformance.reference_server.background import BackgroundServer
    from bsk_conformance.reference_server.clock import OffsetClock

    print()
    with BackgroundServer(create_app(Settings(environment="test"), clock=OffsetClock())) as server:
        modes = {
            "in-process, serial": (),
            "in-process, -n 2": ("-n", "2"),
            "remote, clock control": ("--target", server.url, "--target-profile", str(PROFILE)),
        }
        for label, extra in modes.items():
            runs = [run(current, *extra) for _ in range(args.repeat)]
            times = [t.wall for t in runs]
            result = runs[-1].result or {"requirements": [], "verdict": "no report"}
            checks = sum(len(r["checks"]) for r in result["requirements"])
            print(
                f"{label:<24} median {statistics.median(times):6.1f} s  (min {min(times):.1f}, max {max(times):.1f}; "
                f"{len(result['requirements'])} requirements, {checks} checks, verdict {result['verdict']})"
            )


if __name__ == "__main__":
    main()
