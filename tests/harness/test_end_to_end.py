"""The whole path, as users take it: pytest -> target -> checks -> verdict -> reports."""

from __future__ import annotations

import re
import socket

import pytest

from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.background import BackgroundServer
from bsk_conformance.reference_server.clock import OffsetClock
from tests.harness.conftest import PROFILE

TIME_DEPENDENT = ("BSK-TOK-003", "BSK-TOK-004", "BSK-TOK-005", "BSK-TOK-006")


@pytest.fixture(scope="module")
def remote_server():
    """The reference server as a remote target: its own ticking test clock."""
    with BackgroundServer(create_app(Settings(environment="test"), clock=OffsetClock())) as server:
        yield server.url


def test_in_process_run_is_conformant_and_writes_reports(run_harness):
    run = run_harness()
    assert run.exit_code == 0, run.output[-3000:]
    result = run.result
    assert result["verdict"] == "conformant" and result["clock"] == "frozen"
    assert result["summary"]["failed"] == 0 and result["summary"]["passed"] > 0
    assert (run.report_dir / "conformance.json").exists()
    assert "verdict: CONFORMANT" in run.output
    assert str(run.report_dir / "conformance.json") in run.output


def test_clock_off_reports_time_dependent_rules_not_verified(run_harness):
    run = run_harness("--clock", "off")
    assert run.exit_code == 2, run.output[-3000:]
    assert run.result["verdict"] == "incomplete" and run.result["clock"] == "off"
    for rid in TIME_DEPENDENT:
        requirement = next(r for r in run.result["requirements"] if r["id"] == rid)
        assert requirement["status"] == "not_verified", rid
        assert "clock" in requirement["reason"], requirement["reason"]
    # what needs no clock still passes
    assert run.status("BSK-TOK-002") == "passed"


def test_remote_target_with_clock_control_gives_the_same_verdict(run_harness, remote_server):
    run = run_harness("--target", remote_server, "--target-profile", str(PROFILE))
    assert run.exit_code == 0, run.output[-3000:]
    assert run.result["verdict"] == "conformant" and run.result["clock"] == "control"
    assert run.result["target"] == remote_server


def test_remote_target_without_budget_or_clock_is_incomplete_never_passed(run_harness, remote_server):
    run = run_harness("--target", remote_server, "--target-profile", str(PROFILE), "--clock", "real")
    assert run.exit_code == 2, run.output[-3000:]
    for rid in TIME_DEPENDENT:
        assert run.status(rid) == "not_verified"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_preflight_against_a_closed_port_is_one_line_and_exit_2(run_harness):
    run = run_harness("--target", f"http://127.0.0.1:{_closed_port()}", "--target-profile", str(PROFILE))
    assert run.exit_code == 2, run.output
    assert "preflight failed: target unreachable" in run.output
    assert "Traceback" not in run.output and " passed" not in run.output


def test_profile_errors_exit_3_with_one_line_per_problem(run_harness, tmp_path):
    profile = tmp_path / "bad.toml"
    profile.write_text('environment = "prod"\n[[accounts]]\nemail = "x"\npassword = "secret-pw"\n')
    run = run_harness("--target", "http://127.0.0.1:9", "--target-profile", str(profile))
    assert run.exit_code == 3, run.output
    assert 'environment must be "test" or "live"' in run.output
    assert "only one [[accounts]]" in run.output and "'email' must be an email address" in run.output
    assert "secret-pw" not in run.output and "Traceback" not in run.output


def test_accounts_that_cannot_log_in_are_a_profile_error(run_harness, remote_server, tmp_path):
    profile = tmp_path / "wrong.toml"
    profile.write_text(PROFILE.read_text().replace("correct horse battery staple", "not the password"))
    run = run_harness("--target", remote_server, "--target-profile", str(profile))
    assert run.exit_code == 3, run.output
    assert "account alice@acme.test cannot log in" in run.output
    assert "not the password" not in run.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--requirement", "BSK-NOPE-999"), "unknown requirement ID(s) BSK-NOPE-999"),
        (("--target", "ftp://x"), "--target needs --target-profile"),
        (("--target-profile", str(PROFILE)), "--target-profile needs --target"),
        (("--real-time-budget", "-1"), "--real-time-budget must be zero or more"),
        (("--reference-factory", "nowhere"), "expected module:callable"),
    ],
)
def test_usage_errors_exit_3(run_harness, args, message):
    run = run_harness(*args)
    assert run.exit_code == 3, run.output
    assert message in run.output and "Traceback" not in run.output


def test_list_requirements_prints_the_catalogue_with_coverage(run_harness):
    run = run_harness("--list-requirements")
    assert run.exit_code == 0, run.output
    assert re.search(r"BSK-TOK-002\s+MUST\s+4\s+1\s+An access token's exp is iat \+ 900", run.output)
    assert "every requirement has a check" in run.output


def test_requirement_selection_runs_only_those_checks(run_harness):
    run = run_harness("--requirement", "BSK-TOK-002")
    assert run.exit_code == 0, run.output
    assert run.status("BSK-TOK-002") == "passed"
    assert run.status("BSK-TOK-001") == "skipped"
    assert run.result["verdict"] == "partial"


def test_xdist_workers_reach_one_report_with_the_serial_verdicts(run_harness):
    serial, parallel = run_harness(), run_harness("-n", "2")
    assert parallel.exit_code == serial.exit_code == 0, parallel.output[-3000:]
    statuses = lambda run: {r["id"]: r["status"] for r in run.result["requirements"]}  # noqa: E731
    assert statuses(parallel) == statuses(serial)
    checks = lambda run: sorted(c["nodeid"] for r in run.result["requirements"] for c in r["checks"])  # noqa: E731
    assert checks(parallel) == checks(serial)


def test_installed_plugin_works_from_any_directory(run_harness, tmp_path):
    run = run_harness("--requirement", "BSK-TOK-001", cwd=tmp_path)
    assert run.exit_code == 0, run.output
    assert run.status("BSK-TOK-001") == "passed"


def test_a_dead_connection_makes_that_check_error_and_the_run_goes_on(run_harness):
    run = run_harness(
        "-m", "two_factor or tokens", "--reference-factory", "tests.harness.broken_apps:drops_connection_on_2fa_setup"
    )
    assert run.exit_code == 2, run.output[-3000:]
    assert run.result["verdict"] == "partial" and run.result["completeness"]["verdictOfRun"] == "incomplete"
    assert run.status("BSK-TFA-005") == "error"
    message = next(r for r in run.result["requirements"] if r["id"] == "BSK-TFA-005")["reason"]
    assert message.startswith("target problem: RemoteProtocolError"), message
    # the checks after it still ran and judged
    assert run.status("BSK-TOK-002") == "passed" and run.result["summary"]["passed"] >= 7
    assert "in-process server built by tests.harness.broken_apps" in run.result["target"]


def test_accounts_end_as_they_started_even_when_checks_fail(run_harness):
    """A faulty remote target fails 2FA checks mid-way; afterwards 2FA is off
    again and no key or project the harness made is left behind."""
    import dataclasses

    import httpx

    from bsk_conformance.reference_server.parts import Parts
    from tests.faulty.variants.two_factor import CodesReusable

    settings, clock = Settings(environment="test"), OffsetClock()
    parts = Parts.build(settings, clock)
    parts = dataclasses.replace(parts, two_factor=CodesReusable(parts.store, parts.clock))
    with BackgroundServer(create_app(parts=parts)) as server:
        run = run_harness("--target", server.url, "--target-profile", str(PROFILE))
        assert run.exit_code == 1 and run.status("BSK-TFA-004") == "failed", run.output[-3000:]
        with httpx.Client(base_url=server.url) as client:
            for email, password in (
                ("alice@acme.test", "correct horse battery staple"),
                ("bob@globex.test", "another long passphrase"),
            ):
                login = client.post("/auth/login", json={"email": email, "password": password})
                assert login.status_code == 200, f"{email} was left with 2FA on: {login.text}"
                bearer = {"Authorization": f"Bearer {login.json()['accessToken']}"}
                assert client.get("/api-keys", headers=bearer).json()["data"] == [], f"{email} has leftover keys"
                assert client.get("/projects", headers=bearer).json()["data"] == [], f"{email} has leftover projects"


def test_an_unwritable_report_dir_is_one_clear_line_and_exit_2(run_harness, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    run = run_harness("--requirement", "BSK-TOK-002", "--report-dir", str(blocker / "reports"))
    assert run.exit_code == 2, run.output[-2000:]
    assert "could not write the reports to" in run.output and "Traceback" not in run.output
