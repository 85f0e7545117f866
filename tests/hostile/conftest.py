"""Run the harness, as a user does, against a hostile proxy in front of the reference server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.background import BackgroundServer
from tests.harness_command import harness_command

from .server import Hostile

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "fixtures" / "reference-profile.toml"
# the harness's own weight (pytest, hypothesis, schemathesis, the suites) is
# ~100-150 MB; what a hostile body adds must stay under the 500 MB
PEAK_MEMORY_BOUND_MB = 400


@dataclass
class HarnessRun:
    exit_code: int
    output: str
    report_dir: Path
    seconds: float
    peak_mb: float | None  # the child's own peak RSS, where the platform says

    @property
    def result(self) -> dict[str, Any]:
        return json.loads((self.report_dir / "conformance.json").read_text())

    def requirement(self, rid: str) -> dict[str, Any]:
        return next(r for r in self.result["requirements"] if r["id"] == rid)

    def checks(self) -> list[dict[str, Any]]:
        return [c for r in self.result["requirements"] for c in r["checks"]]


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The honest server the proxy relays to, in test mode (so /_test/clock is mounted)."""
    database = tmp_path_factory.mktemp("upstream") / "reference.sqlite3"
    with BackgroundServer(create_app(Settings(environment="test", database=database))) as server:
        yield server.url


@pytest.fixture
def hostile(upstream: str) -> Iterator[Any]:
    """`hostile({(method, path): behaviour}, **options)` starts a proxy breaking those endpoints."""
    started: list[Hostile] = []

    def make(breaks: dict[tuple[str, str], str], **options: Any) -> Hostile:
        proxy = Hostile(upstream, breaks, **options).start()
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.stop()


def run_harness(url: str, report_dir: Path, *args: str, bound: float) -> HarnessRun:
    """Run the harness in a child process against `url`; kill it (and fail) past `bound` seconds.

    `os.wait4` gives this child's own resource usage: RUSAGE_CHILDREN is the
    peak over every child reaped so far, which would mix runs together."""
    output = report_dir.parent / f"{report_dir.name}.log"
    command = harness_command(
        "--target", url, "--target-profile", str(PROFILE), *args, suites=(), report_dir=report_dir
    )
    with output.open("wb") as sink:
        started = _real_now()
        child = subprocess.Popen(command, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            child.kill()

        timer = threading.Timer(bound, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            timer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = _real_now() - started
    text = output.read_text(errors="replace")
    assert not killed.is_set(), f"the run did not end by itself within {bound} s:\n{text[-3000:]}"
    # ru_maxrss is in KiB on Linux (bytes on macOS)
    scale = 1 if sys.platform == "darwin" else 1024
    peak = usage.ru_maxrss * scale / (1024 * 1024) if usage.ru_maxrss else None
    return HarnessRun(child.returncode, text, report_dir, seconds, peak)


def _real_now() -> float:
    import time

    return time.perf_counter()


def assert_ended_well(run: HarnessRun) -> None:
    """What every hostile run must show: exit 1 or 2, a schema-valid report, bounded memory."""
    from bsk_conformance.reports import validate

    assert run.exit_code in (1, 2), f"exit {run.exit_code}:\n{run.output[-3000:]}"
    assert "Traceback" not in run.output, run.output[-3000:]
    validate(run.result)  # raises InvalidResult, listing the problems
    if run.peak_mb is not None:
        assert run.peak_mb < PEAK_MEMORY_BOUND_MB, f"peak memory {run.peak_mb:.0f} MB"
