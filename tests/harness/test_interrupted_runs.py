"""Runs cut short by SIGINT, SIGTERM or -x: the verdict says so, the report
is written, and the target's accounts end as they began.

Each run is a real `pytest` process against the reference server served on
loopback. The signal is not sent after a guessed delay: the served app sends
it itself when it sees the request that marks the moment (the first 2FA
enable, a fuzzing request, a clock move of the serial phase), so each test
stops the run at the same point every time. The accounts are read back
through the contract's own endpoints before and after.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jsonschema
import pytest

from bsk_conformance import reports
from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.background import BackgroundServer
from bsk_conformance.reference_server.clock import OffsetClock
from tests.harness.conftest import PROFILE
from tests.harness_command import harness_command

ACCOUNTS = tomllib.loads(PROFILE.read_text())["accounts"]
# a run stopped by a signal ends within this (it is a bound, not a timing: the
# cleanup deadline is 30 s and the run must not go on to its end)
STOP_BOUND = 60.0


@dataclass
class Trigger:
    """Sends `signal` to the harness when the served app sees the request that
    `matches` (the nth such), once."""

    matches: Callable[[str, str, dict[str, str]], bool]
    number: int = signal.SIGTERM
    nth: int = 1
    group: bool = False  # to the process group, as a terminal's Ctrl-C does
    pid: int | None = None
    seen: int = 0
    fired_at: float | None = None
    requests: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def observe(self, method: str, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append(f"{method} {path}")
            if self.fired_at is not None or self.pid is None or not self.matches(method, path, headers):
                return
            self.seen += 1
            if self.seen < self.nth:
                return
            self.fired_at = time.monotonic()
        if self.group:
            os.killpg(os.getpgid(self.pid), self.number)
        else:
            os.kill(self.pid, self.number)


class _Watching:
    """ASGI middleware: tell the trigger about every request, then serve it."""

    def __init__(self, app, trigger: Trigger) -> None:
        self.app, self.trigger = app, trigger

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
            self.trigger.observe(scope["method"], scope["path"], headers)
        await self.app(scope, receive, send)


@contextmanager
def served(trigger: Trigger) -> Iterator[str]:
    app = create_app(Settings(environment="test"), clock=OffsetClock())
    with BackgroundServer(_Watching(app, trigger)) as server:
        yield server.url


def account_state(url: str) -> dict[str, tuple]:
    """Per account: can it log in without a code (2FA off), its keys and its projects."""
    state = {}
    with httpx.Client(base_url=url, timeout=10) as client:
        for account in ACCOUNTS:
            login = client.post("/auth/login", json={"email": account["email"], "password": account["password"]})
            if login.status_code != 200:
                state[account["email"]] = ("login", login.status_code, login.json().get("error"))
                continue
            bearer = {"Authorization": f"Bearer {login.json()['accessToken']}"}
            keys = sorted(k["id"] for k in client.get("/api-keys", headers=bearer).json()["data"])
            projects = sorted(p["id"] for p in client.get("/projects", headers=bearer).json()["data"])
            client.post("/auth/logout", json={"refreshToken": login.json()["refreshToken"]}, headers=bearer)
            state[account["email"]] = ("2fa off", tuple(keys), tuple(projects))
    return state


@dataclass
class StoppedRun:
    exit_code: int
    output: str
    report_dir: Path
    stopped_in: float | None  # seconds from the signal to the end of the process

    @property
    def result(self) -> dict:
        return json.loads((self.report_dir / "conformance.json").read_text())


def run_until_stopped(url: str, trigger: Trigger, tmp_path: Path, *extra: str) -> StoppedRun:
    report_dir = tmp_path / "report"
    command = harness_command(
        "--target", url, "--target-profile", str(PROFILE), "--state-dir", str(tmp_path / "state"), *extra,
        report_dir=report_dir,
    )

    def default_sigint() -> None:
        # started from a non-interactive shell's background job, SIGINT would be ignored
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=default_sigint,
        start_new_session=True, cwd=Path(__file__).resolve().parents[2],
    )
    trigger.pid = process.pid
    try:
        output, _ = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    ended = time.monotonic()
    return StoppedRun(process.returncode, output, report_dir, ended - trigger.fired_at if trigger.fired_at else None)


def assert_interrupted(run: StoppedRun, cause: str) -> dict:
    tail = run.output[-4000:]
    assert run.stopped_in is not None, f"the trigger never fired: {tail}"
    assert run.exit_code == 2, tail
    assert run.stopped_in < STOP_BOUND, tail
    assert "Traceback" not in run.output, tail
    result = run.result
    jsonschema.Draft202012Validator(json.loads(reports.schema_path().read_text())).validate(result)
    assert result["verdict"] == "interrupted", tail
    interruption = result["interruption"]
    assert interruption["cause"] == cause and cause in interruption["message"], interruption
    assert interruption["cleanup"] == "complete", (interruption, tail)
    completeness = result["completeness"]
    assert completeness["requirementsRun"] < completeness["requirementsTotal"]
    assert "verdict: INTERRUPTED" in run.output, tail
    for name in ("conformance.html", "junit.xml"):
        assert (run.report_dir / name).exists(), name
    return result


def _is(method: str, path_end: str) -> Callable[[str, str, dict[str, str]], bool]:
    return lambda m, p, h: m == method and p.endswith(path_end)


def _fuzzing(method: str, path: str, headers: dict[str, str]) -> bool:
    return not headers.get("user-agent", "").startswith("bsk-conformance")


POINTS = {
    # the nth request after the preflight's handful: a few checks in
    "early": (Trigger(lambda m, p, h: True, nth=40), ()),
    # the instant 2FA is being turned on: the harness waits on that very exchange
    "2fa-enable": (Trigger(_is("POST", "/auth/2fa/enable")), ("-m", "two_factor or api_keys")),
    # 2FA on, a check under way with it
    "2fa-on": (Trigger(_is("POST", "/auth/2fa/enable"), nth=2), ("-m", "two_factor")),
    # schema fuzzing: generated requests (schemathesis's own user agent)
    "fuzzing": (Trigger(_fuzzing, nth=5), ("-m", "fuzz or api_keys")),
}


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("point", sorted(POINTS))
def test_a_signal_stops_the_run_writes_the_report_and_leaves_the_accounts(point, signal_name, tmp_path):
    template, extra = POINTS[point]
    trigger = Trigger(template.matches, number=getattr(signal, signal_name), nth=template.nth,
                      group=signal_name == "SIGINT")
    with served(trigger) as url:
        before = account_state(url)
        run = run_until_stopped(url, trigger, tmp_path, *extra)
        after = account_state(url)
    assert_interrupted(run, signal_name)
    assert after == before, run.output[-3000:]
    assert journal_entries(tmp_path / "state") == [], "the run undid all it did: nothing is left for the next"


def journal_entries(state_dir: Path) -> list[dict]:
    assert state_dir.is_dir(), "the run journaled nothing: --state-dir was not honoured"
    return [entry for path in state_dir.glob("*.json") for entry in json.loads(path.read_text())["entries"]]


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_a_signal_in_the_serial_phase_under_xdist(signal_name, tmp_path):
    """Under -n 2 the clock-moving checks run one at a time at the end; a
    signal there (to the controller alone, as `kill` sends it, or to the
    whole group, as Ctrl-C does) ends the run the same way."""
    pytest.importorskip("xdist")
    trigger = Trigger(_is("POST", "/_test/clock"), number=getattr(signal, signal_name), nth=2,
                      group=signal_name == "SIGINT")
    with served(trigger) as url:
        before = account_state(url)
        run = run_until_stopped(url, trigger, tmp_path, "-n", "2", "-m", "two_factor or tokens or api_keys")
        after = account_state(url)
    assert_interrupted(run, signal_name)
    assert after == before, run.output[-3000:]
    assert journal_entries(tmp_path / "state") == []


def test_a_second_signal_abandons_the_cleanup_and_the_run_still_reports(tmp_path):
    """The first SIGTERM comes while a check runs with 2FA on (its login with a
    code), the second as the cleanup turns 2FA off: the cleanup is abandoned
    at once, the run says so, and still writes its report."""
    enabled = threading.Event()

    def after_enable(method: str, path: str, headers: dict[str, str]) -> bool:
        if method == "POST" and path.endswith("/auth/2fa/enable"):
            enabled.set()
            return False
        return enabled.is_set() and method == "POST" and path.endswith("/auth/login")

    first = Trigger(after_enable)
    second = Trigger(_is("POST", "/auth/2fa/disable"))  # the cleanup's own step

    class Both(Trigger):
        def observe(self, method: str, path: str, headers: dict[str, str]) -> None:
            first.pid = second.pid = self.pid
            if first.fired_at is not None:
                second.observe(method, path, headers)
            first.observe(method, path, headers)
            self.fired_at = first.fired_at

    both = Both(lambda m, p, h: False)
    with served(both) as url:
        run = run_until_stopped(url, both, tmp_path, "-m", "two_factor")
    assert second.fired_at is not None, run.output[-3000:]
    assert run.exit_code == 2, run.output[-3000:]
    result = run.result
    assert result["verdict"] == "interrupted", run.output[-3000:]
    assert result["interruption"]["cleanup"] == "abandoned", result["interruption"]
    assert "cleanup abandoned" in run.output


def test_maxfail_stops_the_run_as_interrupted():
    """-x after a failed check: interrupted (exit 2), never the verdict of a whole run."""
    from tests.faulty.registry import all_variants
    from tests.faulty.runner import run_harness as run_variant

    run = run_variant(all_variants()["missing_scope_is_401"], "-x")
    assert run.exit_code == 2, run.output[-3000:]
    assert run.result is not None, run.output[-3000:]
    interruption = run.result.get("interruption") or {}
    assert run.result["verdict"] == "interrupted", run.output[-3000:]
    assert interruption["cause"] == "maxfail" and interruption["check"].startswith("suites/"), interruption
