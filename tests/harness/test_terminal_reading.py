"""What pytest's terminal shows of a check, read as a user reads it: the
check's report name wherever pytest put its rootdir, the requirement with
`-v` and `--collect-only -q`, a failure that starts with the rule and stops
at the check's own line, and `--lf` that reruns failures, not warnings.

Real harness runs (a fresh pytest process)."""

from __future__ import annotations

import json
import re
import shutil

from bsk_conformance.harness.requirements import load_catalogue
from tests.faulty.remote import PROFILE, served

WRONG_STATUS = "--reference-factory=tests.faulty.registry:unknown_refresh_token_is_400"  # breaks BSK-REF-009, a MUST
TWIN_ACCEPTED = "--reference-factory=tests.faulty.registry:malleated_signature_accepted"  # breaks BSK-JWT-015, a SHOULD
TWO_KEY_CHECKS = "test_key_is_refused_from_its_expires_at or test_rate_limit_defaults_to_60"


def test_checks_are_named_as_the_reports_name_them_with_a_profile_from_another_directory(run_harness, tmp_path):
    """`--target-profile /other/dir/profile.toml` (a space, not `=`) moves pytest's
    rootdir; the names stay `suites/<module>::<check>`, `-v` adds the requirement."""
    profile_dir = tmp_path / "some" / "dir"
    profile_dir.mkdir(parents=True)
    profile = shutil.copy(PROFILE, profile_dir / "profile.toml")
    started_in = tmp_path / "elsewhere"
    started_in.mkdir()
    with served(None) as url:
        common = ("--target", url, "--target-profile", str(profile))
        # -v twice: the harness command's -q takes one back
        run = run_harness(*common, "-v", "-v", "-rA", "-k", TWO_KEY_CHECKS, cwd=started_in)
        listing = run_harness(*common, "--collect-only", cwd=started_in)  # the harness command gives -q
    assert run.exit_code == 0, run.output[-3000:]
    assert f"rootdir: {tmp_path}" in run.output  # pytest did take the profile's folder into account
    for name, rid in (
        ("suites/test_api_keys.py::test_key_is_refused_from_its_expires_at", "BSK-KEY-014"),
        ("suites/test_api_keys.py::test_rate_limit_defaults_to_60", "BSK-KEY-020"),
    ):
        assert re.search(rf"^{re.escape(name)} \[{rid}\] PASSED", run.output, re.M), run.output
        assert f"PASSED {name} [{rid}]" in run.output  # -rA's short summary
    assert "../" not in run.output

    assert listing.exit_code == 0, listing.output[-3000:]
    lines = [line for line in listing.output.splitlines() if "::" in line]
    # every shipped check, as the catalogue's index lists them
    assert len(lines) == sum(len(names) for names in load_catalogue().checks.values()), len(lines)
    assert all(re.fullmatch(r"suites/test_\w+\.py::\S.* \[BSK-[A-Z]+-\d{3}\]", line) for line in lines), lines[:5]


def test_a_failure_starts_with_the_rule_and_ends_at_the_checks_own_line(run_harness):
    run = run_harness(WRONG_STATUS, "--requirement", "BSK-REF-009")
    assert run.exit_code == 1, run.output[-3000:]
    failures = run.output.split("= FAILURES =", 1)[1].split("= bsk-conformance =", 1)[0]
    # one section per failed check: the fixed check, and the model-based run's check that
    # judges the same requirement (it sends random text as a refresh token too)
    sections = dict(re.findall(r"^_{3,} (\S+) _{3,}\n(.*?)(?=^_{3,} \S+ _{3,}$|\Z)", failures, re.M | re.S))
    assert len(sections) >= 1, failures[:300]
    for name, body in sections.items():
        assert body.startswith("BSK-REF-009 (MUST, §3): "), (name, body[:300])
        assert "harness/expect.py" not in body
        last = [line for line in body.splitlines() if line.strip() and not line.startswith("=")][-1]
        assert last.startswith("suites/test_") and last.endswith(": CheckFailed"), (name, last)  # the check's line ends it
    fixed = [body for body in sections.values() if "suites/test_refresh.py:" in body]
    assert len(fixed) == 1 and fixed[0].startswith(
        "BSK-REF-009 (MUST, §3): POST /auth/refresh with random text as the refresh token: "
        "expected HTTP 401; observed HTTP 400"
    ), list(sections)

    # for someone debugging the harness, every frame is still there
    long = run_harness(WRONG_STATUS, "--requirement", "BSK-REF-009", "--tb=long")
    assert long.exit_code == 1
    assert "harness/expect.py:" in long.output
    assert "BSK-REF-009 (MUST, §3): " in long.output


def test_lf_reruns_a_warned_check_only_under_strict(run_harness, tmp_path):
    """A warning is not a failure: pytest's cache does not record it as one,
    unless --strict made it one."""
    for strict, recorded in ((False, {}), (True, {"suites/test_jwt_attacks.py::test_ecdsa_twin_signature_is_refused"})):
        cache = tmp_path / f"cache-{strict}"
        args = ["-p", "cacheprovider", "-o", f"cache_dir={cache}", TWIN_ACCEPTED, "--requirement", "BSK-JWT-015"]
        run = run_harness(*args, *(["--strict"] if strict else []))
        assert run.exit_code == (1 if strict else 0), run.output[-3000:]
        lastfailed = cache / "v" / "cache" / "lastfailed"
        found = json.loads(lastfailed.read_text()) if lastfailed.exists() else {}
        assert set(found) == set(recorded)
        assert ("1 failed" if strict else "1 warned") in run.output
