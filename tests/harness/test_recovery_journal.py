"""The recovery journal end to end (issue 21): a run killed with SIGKILL while
it has changed the target (2FA on, keys created) is undone by the next run's
preflight or by `bsk-conformance cleanup`, read back through the contract's
own endpoints. Real subprocess runs of the harness against the reference
server served on loopback; the run is stopped at a known point by holding
one of the server's answers (tests/harness/gate.py), never by timing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bsk_conformance.harness.journal import journal_name
from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.background import BackgroundServer
from bsk_conformance.reference_server.clock import OffsetClock
from tests.harness.conftest import PROFILE, ROOT
from tests.harness.gate import Gate, Rule
from tests.harness_command import harness_command

ALICE = ("alice@acme.test", "correct horse battery staple")
BOB = ("bob@globex.test", "another long passphrase")
EMAILS = [ALICE[0], BOB[0]]
PASSWORDS = [ALICE[1], BOB[1]]
BOUND = 120  # seconds: generous, never a timing assumption


@contextmanager
def served(rule: Rule, *, hold_next: bool = False) -> Iterator[tuple[str, Gate]]:
    gate = Gate(create_app(Settings(environment="test"), clock=OffsetClock()), rule, hold_next=hold_next)
    try:
        with BackgroundServer(gate) as server:
            yield server.url, gate
    finally:
        gate.release.set()


def start_run(url: str, state: Path, log: Path, *requirements: str) -> subprocess.Popen:
    selection = [arg for rid in requirements for arg in ("--requirement", rid)]
    command = harness_command(
        "--target", url, "--target-profile", str(PROFILE), "--state-dir", str(state), *selection,
        report_dir=log.with_suffix(".reports"),
    )
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def kill(child: subprocess.Popen) -> None:
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=BOUND) == -signal.SIGKILL


def journal_file(url: str, state: Path) -> Path:
    return state / journal_name(url, EMAILS)


def entries(url: str, state: Path) -> list[dict]:
    return json.loads(journal_file(url, state).read_text())["entries"]


def assert_no_credential_in(state: Path, gate: Gate) -> None:
    """No password, token or API key of the run in any file of the state directory."""
    assert gate.issued, "the scan must have seen the server issue tokens"
    for path in state.iterdir():
        text = path.read_text(errors="replace")
        leaked = [kind for kind, values in (("password", PASSWORDS), ("credential", gate.issued))
                  for value in values if value in text]
        assert not leaked, f"{path.name} holds a {leaked[0]}"


def login(url: str, account: tuple[str, str]) -> httpx.Response:
    return httpx.post(f"{url}/auth/login", json={"email": account[0], "password": account[1]}, timeout=30)


def keys_of(url: str, account: tuple[str, str]) -> list[dict]:
    response = login(url, account)
    assert response.status_code == 200, response.text
    listed = httpx.get(f"{url}/api-keys", headers={"Authorization": f"Bearer {response.json()['accessToken']}"})
    return listed.json()["data"]


def cleanup(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "bsk_conformance.console", "cleanup", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=BOUND)


def enabled(method: str, path: str, status: int) -> bool:
    return (method, path, status) == ("POST", "/auth/2fa/enable", 204)


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_a_run_killed_with_2fa_on_is_restored_by_the_next_runs_preflight(run_harness, tmp_path, workers):
    state = tmp_path / "state"
    with served(enabled, hold_next=True) as (url, gate):
        child = start_run(url, state, tmp_path / "killed.log", "BSK-TFA-005")
        assert gate.held.wait(BOUND), (tmp_path / "killed.log").read_text()[-3000:]
        # the enable's 204 reached the harness: the entry says on, with the secret that can turn it off
        [entry] = entries(url, state)
        assert (entry["kind"], entry["account"], entry["state"]) == ("two-factor", ALICE[0], "on")
        assert entry["totpSecret"] in gate.totp_secrets
        assert_no_credential_in(state, gate)
        kill(child)
        gate.release.set()

        refused = login(url, ALICE)
        assert (refused.status_code, refused.json()["error"]) == (401, "two_factor_required")

        run = run_harness("--target", url, "--target-profile", str(PROFILE), "--state-dir", str(state),
                          "--requirement", "BSK-TFA-005", "--requirement", "BSK-TFA-006", *workers,
                          timeout=BOUND * 3)
        # under -n the controller recovers before any worker starts (and logs in); the workers leave it alone
        assert run.exit_code == 0, run.output[-3000:]
        lines = run.output.splitlines()
        recovered = "bsk-conformance: recovered from an interrupted run: turned 2FA off for alice@acme.test"
        assert recovered in lines, run.output[-3000:]
        # said before any check: ahead of the run's own first line
        first = next(i for i, line in enumerate(lines) if line.startswith("bsk-conformance: target"))
        assert lines.index(recovered) < first
        assert login(url, ALICE).status_code == 200
        assert not journal_file(url, state).exists()
        assert_no_credential_in(state, gate)


def test_a_key_whose_201_never_arrived_is_found_by_name_and_deleted_by_the_next_run(run_harness, tmp_path):
    state = tmp_path / "state"
    with served(lambda method, path, status: (method, path, status) == ("POST", "/api-keys", 201)) as (url, gate):
        child = start_run(url, state, tmp_path / "killed.log", "BSK-KEY-001")
        assert gate.held.wait(BOUND), (tmp_path / "killed.log").read_text()[-3000:]
        [entry] = entries(url, state)
        assert (entry["kind"], entry["account"], entry["state"]) == ("api-key", ALICE[0], "pending")
        assert "objectId" not in entry
        assert_no_credential_in(state, gate)
        kill(child)
        gate.release.set()
        [left] = keys_of(url, ALICE)
        assert left["name"] == entry["name"]

        run = run_harness("--target", url, "--target-profile", str(PROFILE), "--state-dir", str(state),
                          "--requirement", "BSK-KEY-001", timeout=BOUND * 3)
        assert run.exit_code == 0, run.output[-3000:]
        assert "bsk-conformance: recovered from an interrupted run: deleted 1 API key" in run.output.splitlines()
        assert "found by its name and creation time" in run.output
        assert keys_of(url, ALICE) == []
        assert not journal_file(url, state).exists()


def test_cleanup_deletes_the_keys_and_turns_2fa_off_after_a_sigkill(tmp_path):
    state = tmp_path / "state"
    listing = lambda method, path, status: (method, path) == ("GET", "/api-keys")  # noqa: E731
    with served(listing) as (url, gate):
        # BSK-KEY-003 creates two keys, then lists them: held there, both keys exist and are journaled with ids
        child = start_run(url, state, tmp_path / "keys.log", "BSK-KEY-003")
        assert gate.held.wait(BOUND), (tmp_path / "keys.log").read_text()[-3000:]
        assert sorted((e["kind"], e["state"]) for e in entries(url, state)) == [("api-key", "created")] * 2
        kill(child)
        gate.release.set()
        assert len(keys_of(url, ALICE)) == 2

        done = cleanup("--target", url, "--target-profile", str(PROFILE), "--state-dir", str(state))
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.splitlines() == ["bsk-conformance: recovered from an interrupted run: deleted 2 API keys"]
        assert keys_of(url, ALICE) == []
        assert not journal_file(url, state).exists()

    with served(enabled) as (url, gate):
        # the enable's answer is held: 2FA is on at the target, the harness never heard so
        child = start_run(url, state, tmp_path / "2fa.log", "BSK-TFA-005")
        assert gate.held.wait(BOUND), (tmp_path / "2fa.log").read_text()[-3000:]
        [entry] = entries(url, state)
        assert (entry["kind"], entry["state"]) == ("two-factor", "pending")
        kill(child)
        gate.release.set()
        assert login(url, ALICE).json()["error"] == "two_factor_required"

        done = cleanup("--target", url, "--target-profile", str(PROFILE), "--state-dir", str(state))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "turned 2FA off for alice@acme.test" in done.stdout
        assert login(url, ALICE).status_code == 200
        assert keys_of(url, ALICE) == []
        # run again: nothing left
        again = cleanup("--target", url, "--target-profile", str(PROFILE), "--state-dir", str(state))
        assert again.returncode == 0 and "nothing to clean up" in again.stdout
        assert_no_credential_in(state, gate)


def test_a_corrupt_journal_stops_the_run_with_one_line_naming_it_and_is_kept(run_harness, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    url = "http://127.0.0.1:9"  # the journal is read before anything is sent
    corrupt = journal_file(url, state)
    corrupt.write_text('{"format": "bsk-conformance-journal", "entr')
    run = run_harness("--target", url, "--target-profile", str(PROFILE), "--state-dir", str(state))
    assert run.exit_code == 3, run.output
    # pytest shows a preflight's exit message twice (as for every preflight failure); each time on one line
    naming = [line for line in run.output.splitlines() if str(corrupt) in line]
    assert naming and all("preflight failed" in line and "not valid JSON" in line for line in naming), run.output
    assert "Traceback" not in run.output
    assert corrupt.read_text() == '{"format": "bsk-conformance-journal", "entr'

    done = cleanup("--target", url, "--target-profile", str(PROFILE), "--state-dir", str(state))
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and str(corrupt) in done.stderr
    assert corrupt.exists()


def test_a_journal_of_another_target_in_this_targets_file_is_refused(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    url = "http://127.0.0.1:9"
    foreign = journal_file(url, state)
    document = {"format": "bsk-conformance-journal", "version": 1, "target": "https://elsewhere.test",
                "accounts": sorted(EMAILS), "entries": []}
    foreign.write_text(json.dumps(document))
    done = cleanup("--target", url, "--target-profile", str(PROFILE), "--state-dir", str(state))
    assert done.returncode == 3, done.stderr
    assert str(foreign) in done.stderr and "another target" in done.stderr and "Traceback" not in done.stderr
    assert json.loads(foreign.read_text()) == document
