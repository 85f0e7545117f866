"""bsk-conformance diff: regressions gate (exit 1), improvements don't, bad input exits 2 in one line."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from synthetic_results import (
    envelope,
    finish,
    make_interrupted_result,
    make_partial_result,
    make_result,
    requirement,
    with_status,
    without,
)

from bsk_conformance.reports import diff
from bsk_conformance.reports.cli import main


def _write(path: Path, result: dict[str, Any]) -> Path:
    path.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def baseline() -> dict[str, Any]:
    """A conformant run: every requirement passed."""
    return envelope(
        [
            requirement("BSK-TOK-001", "passed", title="Login shape"),
            requirement("BSK-TOK-002", "passed", title="Access token lifetime is 900 s"),
            requirement("BSK-TOK-010", "passed", level="SHOULD", title="Family revocation"),
            requirement("BSK-RL-001", "passed", section="5", title="Rate limit window"),
            requirement("BSK-KEY-001", "passed", title="Key prefix"),
        ]
    )


@pytest.mark.parametrize("new_status", ["failed", "warning", "error", "not_verified", "skipped"])
def test_passed_to_anything_else_is_a_regression(baseline: dict[str, Any], new_status: str) -> None:
    d = diff.compare(baseline, with_status(baseline, "BSK-TOK-002", new_status))
    assert [(c.id, c.old, c.new) for c in d.regressions] == [("BSK-TOK-002", "passed", new_status)]
    assert d.has_regressions and not d.improvements


def test_a_passed_requirement_that_disappeared_is_a_regression(baseline: dict[str, Any]) -> None:
    d = diff.compare(baseline, without(baseline, "BSK-KEY-001"))
    assert [(c.id, c.old, c.new) for c in d.regressions] == [("BSK-KEY-001", "passed", None)]


def test_worse_but_not_from_passed_is_a_regression_too(baseline: dict[str, Any]) -> None:
    old = with_status(baseline, "BSK-TOK-002", "not_verified")
    d = diff.compare(old, with_status(baseline, "BSK-TOK-002", "failed"))
    assert [(c.old, c.new) for c in d.regressions] == [("not_verified", "failed")]


def test_improvements_changes_additions_and_removals_do_not_gate(baseline: dict[str, Any]) -> None:
    old = with_status(with_status(baseline, "BSK-TOK-002", "failed"), "BSK-RL-001", "not_verified")
    old = with_status(old, "BSK-KEY-001", "error")
    new = with_status(baseline, "BSK-RL-001", "error")  # same rank as not_verified: changed
    new = without(new, "BSK-KEY-001")  # was not passing before: removed, not a regression
    new["requirements"].append(requirement("BSK-NEW-001", "failed", title="A new rule"))
    d = diff.compare(old, new)
    assert not d.regressions
    assert [(c.id, c.old, c.new) for c in d.improvements] == [("BSK-TOK-002", "failed", "passed")]
    assert [(c.id, c.old, c.new) for c in d.changed] == [("BSK-RL-001", "not_verified", "error")]
    assert [(c.id, c.new) for c in d.added] == [("BSK-NEW-001", "failed")]
    assert [(c.id, c.old) for c in d.removed] == [("BSK-KEY-001", "error")]
    assert d.unchanged == {"passed": 2}


def test_cli_exit_codes_and_text(baseline: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _write(tmp_path / "old.json", baseline)
    same = _write(tmp_path / "same.json", baseline)
    worse = _write(tmp_path / "worse.json", with_status(baseline, "BSK-TOK-002", "failed"))

    assert main(["diff", str(old), str(same)]) == 0
    out = capsys.readouterr().out
    assert "verdict: conformant (unchanged)" in out and "Unchanged: 5 (5 passed)" in out and "0 regressions" in out

    assert main(["diff", str(old), str(worse)]) == 1
    out = capsys.readouterr().out
    assert "verdict: conformant -> non-conformant" in out
    assert "Regressions (1):" in out
    assert "BSK-TOK-002    MUST   §4    passed -> failed   Access token lifetime is 900 s" in out

    assert main(["diff", str(worse), str(old)]) == 0
    assert "Improvements (1):" in capsys.readouterr().out


def test_cli_json_output(baseline: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _write(tmp_path / "old.json", baseline)
    new = _write(tmp_path / "new.json", without(with_status(baseline, "BSK-TOK-002", "not_verified"), "BSK-KEY-001"))
    assert main(["diff", "--json", str(old), str(new)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["regression"] is True
    assert data["verdict"] == {
        "old": "conformant",
        "new": "incomplete",
        "oldDetail": "conformant",
        "newDetail": "incomplete",
        "regression": False,  # both whole runs: the requirements above say what got worse
    }
    assert [(c["id"], c["old"], c["new"]) for c in data["regressions"]] == [
        ("BSK-KEY-001", "passed", None),
        ("BSK-TOK-002", "passed", "not_verified"),
    ]
    assert data["unchanged"] == {"total": 3, "byStatus": {"passed": 3}}
    assert data["old"] == str(old) and data["new"] == str(new)


BAD_INPUTS = {
    "missing file": (None, "no such file"),
    "a directory": ("DIR", "is a directory"),
    "not JSON": ("{not json", "not valid JSON (line 1, column 2"),
    "not UTF-8": (b"\xff\xfe\x00", "not UTF-8"),
    "not schema v1": ('{"schemaVersion": 1, "verdict": "ok"}', "not a valid conformance result (schema v1)"),
    "a future schema": ('{"schemaVersion": 2}', "unsupported version 2"),
    "a JSON list": ("[]", "not a valid conformance result"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line(
    case: str, baseline: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content, expected = BAD_INPUTS[case]
    good = _write(tmp_path / "good.json", baseline)
    bad = tmp_path / "bad.json"
    if content == "DIR":
        bad.mkdir()
    elif isinstance(content, bytes):
        bad.write_bytes(content)
    elif content is not None:
        bad.write_text(content, encoding="utf-8")
    for argv in (["diff", str(good), str(bad)], ["diff", str(bad), str(good)]):
        assert main(argv) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        lines = captured.err.splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"bsk-conformance: error: {bad}: ")
        assert expected in lines[0]
        assert "Traceback" not in captured.err


def _entry_points() -> list[list[str]]:
    commands = [[sys.executable, "-m", "bsk_conformance.reports"]]
    script = Path(sys.executable).parent / "bsk-conformance"
    found = str(script) if script.exists() else shutil.which("bsk-conformance")
    if found:
        commands.append([found])
    return commands


@pytest.mark.parametrize("command", _entry_points(), ids=lambda c: Path(c[-1]).name)
def test_the_console_script_and_python_m_agree(command: list[str], baseline: dict[str, Any], tmp_path: Path) -> None:
    old = _write(tmp_path / "old.json", baseline)
    new = _write(tmp_path / "new.json", with_status(baseline, "BSK-TOK-002", "failed"))
    regressed = subprocess.run([*command, "diff", str(old), str(new)], capture_output=True, text=True)
    assert regressed.returncode == 1 and "Regressions (1):" in regressed.stdout
    broken = subprocess.run([*command, "diff", str(old), str(tmp_path / "nope.json")], capture_output=True, text=True)
    assert broken.returncode == 2
    assert broken.stderr.strip() == f"bsk-conformance: error: {tmp_path / 'nope.json'}: no such file"


def test_validate_and_render_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _write(tmp_path / "conformance.json", make_result())
    assert main(["validate", str(source)]) == 0
    assert "valid conformance.json (schema v1), verdict partial" in capsys.readouterr().out
    assert main(["render", str(source), "--report-dir", str(tmp_path / "again")]) == 0
    assert {p.name for p in (tmp_path / "again").iterdir()} == {"conformance.json", "conformance.html", "junit.xml"}
    assert main(["schema"]) == 0
    assert capsys.readouterr().out.strip().endswith("conformance-v1.schema.json")


# -- runs that are not whole ---------------------------------------------------------------------------------


def test_a_whole_run_followed_by_a_partial_one_shows_it_and_gates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _write(tmp_path / "old.json", make_partial_result(run=127, total=127))
    new = _write(tmp_path / "new.json", make_partial_result(run=2, total=127))
    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "verdict: conformant -> partial (2/127)" in out
    assert "Verdict regression: the baseline was a whole run (conformant); this run is partial (2/127)" in out


def test_an_interrupted_run_is_a_regression_of_the_verdict_even_when_no_status_got_worse() -> None:
    """Stopped after its last check: every status as in the baseline, but the run is not whole."""
    interrupted = make_interrupted_result()
    whole = copy.deepcopy(interrupted)
    del whole["interruption"]
    finish(whole)
    assert whole["verdict"] == "partial"  # one requirement was not reached: drop the interruption alone
    whole = without(whole, "BSK-KEY-001")
    stopped = without(interrupted, "BSK-KEY-001")
    assert (whole["verdict"], stopped["verdict"]) == ("incomplete", "interrupted")
    d = diff.compare(whole, stopped)
    assert not d.regressions and not d.improvements and d.verdict_regressed and d.has_regressions
    lines = diff.format_text(d, "old.json", "new.json")
    assert "verdict: incomplete -> interrupted (SIGTERM)" in lines
    assert lines[-1] == "0 regressions, 0 improvements, and the verdict regressed"
    data = json.loads(diff.format_json(d, "old.json", "new.json"))
    assert data["verdict"]["newDetail"] == "interrupted (SIGTERM)" and data["verdict"]["regression"] is True
    assert data["regression"] is True


def test_two_runs_that_are_not_whole_are_compared_by_their_requirements_only() -> None:
    d = diff.compare(make_partial_result(run=2, total=10), make_partial_result(run=2, total=10))
    assert not d.verdict_regressed and not d.has_regressions
    assert diff.format_text(d, "a", "b")[1] == "verdict: partial (2/10) (unchanged)"


def test_a_partial_run_followed_by_a_whole_one_is_not_a_regression_of_the_verdict() -> None:
    d = diff.compare(make_partial_result(run=2, total=3), make_partial_result(run=3, total=3))
    assert not d.verdict_regressed and not d.has_regressions


def test_a_hostile_interruption_cause_reaches_the_diff_as_one_visible_line() -> None:
    result = make_interrupted_result(cause="SIG\x1b[2J\nTERM")
    lines = diff.format_text(diff.compare(make_partial_result(2, 2), result), "a", "b")
    assert not any("\x1b" in line for line in lines)
    assert "verdict: conformant -> interrupted (SIG\\x1b[2J TERM)" in lines
