"""The harness against a hostile target: each behaviour breaks one endpoint,
and the run must end by itself, within a stated bound, with exit 1 or 2, a
schema-valid report, bounded memory, and nothing sent to another origin.

Sizes are scaled down from the issue's (400 MB body, 2 GB bomb: see bench/);
what is shown is that the harness stops at its cap, whatever the size.
"""

from __future__ import annotations

from pathlib import Path

from bsk_conformance.harness.results import LEFT_OUT_BY_SELECTION

from .conftest import assert_ended_well, run_harness

# BSK-EP-002's two checks each GET /organization (with a bearer token, then a
# key); BSK-EP-001 runs before them and BSK-EP-003 after them, on other endpoints
BROKEN = ("GET", "/organization")
# the model-based run's checks judge these requirements too, from one run of many exchanges:
# the tests that count hits per endpoint leave it out, and one test below gives it a target
# that fails an exchange
FIXED_ONLY = ("-m", "not model_run")
SELECT = ("--requirement", "BSK-EP-001", "--requirement", "BSK-EP-002", "--requirement", "BSK-EP-003", *FIXED_ONLY)
BOUND = 120.0  # seconds: a run of these few checks takes ~10 s; a hang would be killed here


def _ran(checks: list[dict]) -> list[dict]:
    """The checks that ran (the report lists those left out by -m, as skipped)."""
    return [c for c in checks if c["message"] != LEFT_OUT_BY_SELECTION]


def _checks(run, rid: str) -> list[dict]:
    return _ran(run.requirement(rid)["checks"])


def _passed(run, rid: str) -> bool:
    """Every check of the requirement that ran passed (its status stays skipped: some were left out)."""
    ran = _checks(run, rid)
    return bool(ran) and all(c["outcome"] == "passed" for c in ran)


def test_a_trickle_ends_each_exchange_at_the_request_timeout_and_the_run_goes_on(hostile, tmp_path: Path) -> None:
    proxy = hostile({BROKEN: "trickle"}, interval=0.3)
    run = run_harness(proxy.url, tmp_path / "report", *SELECT, "--request-timeout", "2", bound=BOUND)
    assert_ended_well(run)
    assert run.exit_code == 2 and proxy.hits == {"trickle": 2}
    for check in _checks(run, "BSK-EP-002"):
        assert check["outcome"] == "error", check
        assert "no complete answer within --request-timeout 2 s: waited 2." in check["message"], check["message"]
    assert _passed(run, "BSK-EP-001")
    assert _passed(run, "BSK-EP-003")  # the run went on after the trickle


def test_the_run_deadline_ends_a_hung_run_and_the_rest_is_not_verified(hostile, tmp_path: Path) -> None:
    proxy = hostile({BROKEN: "trickle"}, interval=0.3)
    # the request timeout alone would hold the first trickled exchange for 300 s
    run = run_harness(
        proxy.url, tmp_path / "report", *SELECT, "--request-timeout", "300", "--run-timeout", "12", bound=BOUND
    )
    assert_ended_well(run)
    assert run.exit_code == 2
    checks = run.checks()
    assert any("the run deadline (--run-timeout 12 s)" in (c["message"] or "") for c in checks), checks
    unrun = [c for c in checks if c["outcome"] == "not_verified"]
    assert unrun and all("not run: the run deadline" in c["message"] for c in unrun)
    assert not any(c["outcome"] == "passed" and "BSK-EP-003" in c["nodeid"] for c in checks)


def test_a_big_body_is_abandoned_at_the_cap_and_fails_the_check(hostile, tmp_path: Path) -> None:
    proxy = hostile({BROKEN: "big"}, size=400 * 1024 * 1024)
    run = run_harness(proxy.url, tmp_path / "report", *SELECT, "--max-response-bytes", "1048576", bound=BOUND)
    assert_ended_well(run)
    assert run.exit_code == 1
    for check in _checks(run, "BSK-EP-002"):
        assert check["outcome"] in ("failed", "error"), check
        assert "--max-response-bytes (1 MB)" in check["message"], check["message"]
        assert "read stopped at 1,048,577 bytes decoded" in check["message"]
    assert _passed(run, "BSK-EP-003")
    evidence = [e for c in _checks(run, "BSK-EP-002") for e in c["evidence"] if e["url"].endswith("/organization")]
    assert evidence and all(e["truncated"] and len(e["responseBody"]) <= 16 * 1024 for e in evidence)


def test_a_compression_bomb_stops_at_the_cap_decoded(hostile, tmp_path: Path) -> None:
    # 256 MB of spaces gzip to ~250 kB: the wire stays far under the cap, the decoded body does not
    proxy = hostile({BROKEN: "bomb"}, size=256 * 1024 * 1024)
    run = run_harness(proxy.url, tmp_path / "report", *SELECT, "--max-response-bytes", "1048576", bound=BOUND)
    assert_ended_well(run)
    assert run.exit_code == 1
    for check in _checks(run, "BSK-EP-002"):
        assert "read stopped at 1,048,577 bytes decoded" in check["message"], check["message"]


def test_a_reset_mid_body_errs_a_redirect_fails_and_nothing_reaches_the_other_origin(hostile, tmp_path: Path) -> None:
    proxy = hostile({BROKEN: "redirect", ("GET", "/api-keys"): "reset"})
    run = run_harness(proxy.url, tmp_path / "report", *SELECT, bound=BOUND)
    assert_ended_well(run)
    assert run.exit_code == 1
    listing, one = sorted(_checks(run, "BSK-EP-003"), key=lambda c: "{id}" in c["nodeid"])
    assert listing["outcome"] == "error" and listing["message"].startswith("target problem: "), listing
    assert one["outcome"] == "passed", one  # the run went on
    for check in _checks(run, "BSK-EP-002"):
        assert check["outcome"] == "failed", check
        message = check["message"]
        assert f"(redirect to {proxy.trap_url}/collect?token=«" in message and "not followed" in message, message
    assert _passed(run, "BSK-EP-001")
    assert proxy.hits == {"redirect": 2, "reset": 1}
    # no credential, token or password reached the other origin: not even a connection
    assert proxy.trap.received == []
    # and the token-shaped query the target put in Location is redacted wherever shown
    assert "eyJhbGciOiJIUzI1NiJ9" not in (tmp_path / "report" / "conformance.json").read_text()
    assert "eyJhbGciOiJIUzI1NiJ9" not in (tmp_path / "report" / "conformance.html").read_text()


def test_bad_bytes_and_bad_headers_fail_or_err_that_check_with_a_sentence(hostile, tmp_path: Path) -> None:
    proxy = hostile(
        {
            ("GET", "/api-keys"): "notjson",  # and no Content-Type
            BROKEN: "badbytes",
            ("GET", "/projects"): "hugeheader",
            ("GET", "/projects/*"): "duplicate",
        },
        size=200 * 1024,
    )
    select = ("--requirement", "BSK-EP-003", "--requirement", "BSK-EP-002", *FIXED_ONLY)
    run = run_harness(
        proxy.url,
        tmp_path / "report",
        *select,
        "--requirement",
        "BSK-EP-006",
        "--requirement",
        "BSK-EP-007",
        bound=BOUND,
    )
    assert_ended_well(run)
    assert run.exit_code == 1
    not_json = [c for c in _checks(run, "BSK-EP-003") if "{id}" not in c["nodeid"]]
    for check in not_json + _checks(run, "BSK-EP-002"):  # not JSON; not UTF-8
        assert check["outcome"] == "failed" and "expected a JSON body" in check["message"], check
    for check in _checks(run, "BSK-EP-006"):  # a 200 kB header: past h11's limit
        assert check["outcome"] == "error" and check["message"].startswith("target problem: "), check
    for check in _checks(run, "BSK-EP-007"):  # two Content-Types, two differing Content-Lengths
        assert check["outcome"] in ("failed", "error"), check
        assert not check["message"].startswith("harness problem"), check["message"]
    assert set(proxy.hits) == {"notjson", "badbytes", "hugeheader", "duplicate"}


def test_a_reset_during_the_model_run_leaves_its_unjudged_checks_in_error_never_not_verified(
    hostile, tmp_path: Path
) -> None:
    """The target resets the connection of every key listing: the model run ends there. A
    requirement it never came to is a target problem (error), as in a fixed check, not
    something a larger budget would have shown."""
    proxy = hostile({("GET", "/api-keys"): "reset"})
    run = run_harness(proxy.url, tmp_path / "report", "-m", "model_run", bound=BOUND)
    assert_ended_well(run)
    assert run.exit_code in (1, 2) and proxy.hits.get("reset", 0) >= 1, run.output[-3000:]
    checks = _ran(run.checks())
    assert checks and all("test_model_run.py" in c["nodeid"] for c in checks)
    errors = [c for c in checks if c["outcome"] == "error"]
    assert errors and all(c["message"].startswith("target problem: ") for c in errors), errors[:2]
    assert any("/api-keys" in c["message"] for c in errors), errors[:2]
    assert not any("--model-examples" in (c["message"] or "") for c in checks)
    assert run.requirement("BSK-MODEL-001")["status"] != "passed"  # the read-back never answered
