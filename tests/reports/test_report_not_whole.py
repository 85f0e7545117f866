"""Runs that are not whole: every output says "partial" or "interrupted", how much ran, and (interrupted) by
what, in which check and whether cleanup completed; the new objects follow the schema, old reports still do;
the interruption's text, which can carry target-derived words, is escaped in HTML and JUnit."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from synthetic_results import HOSTILE, finish, make_interrupted_result, make_partial_result, make_result

from bsk_conformance import reports
from bsk_conformance.reports.html_report import render_html
from bsk_conformance.reports.junit import render_junit

PATHS = {"json": Path("r/conformance.json")}


def _suite_properties(result: dict[str, Any]) -> dict[str, str]:
    suite = ET.fromstring(render_junit(result)).find("testsuite")
    assert suite is not None
    return {p.get("name"): p.get("value") for p in suite.iter("property") if p in list(suite.find("properties"))}


def _text(page: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", page))


# -- schema ------------------------------------------------------------------------------------------------


def test_partial_and_interrupted_reports_are_schema_valid_and_write_as_they_are(tmp_path: Path) -> None:
    for result in (make_partial_result(), make_interrupted_result()):
        reports.validate(result)
        written = json.loads(reports.write_reports(result, tmp_path / result["verdict"])["json"].read_text())
        assert written == result
    assert make_partial_result()["completeness"] == {
        "requirementsRun": 2,
        "requirementsTotal": 127,
        "leftOut": [f"BSK-OUT-{i:03d}" for i in range(125)],
        "verdictOfRun": "conformant",
    }


def test_a_report_written_before_completeness_and_interruption_still_validates() -> None:
    old = make_result()
    del old["completeness"]
    old["verdict"] = "non-conformant"  # what the harness wrote for it then
    reports.validate(old)


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("verdict", "aborted"),
        ("completeness.verdictOfRun", "partial"),  # the verdict of what ran is one of the three whole-run words
        ("completeness.requirementsRun", -1),
        ("completeness.extra", 1),
        ("interruption.cleanup", "mostly"),
        ("interruption.cause", ""),
        ("interruption.check", 3),
    ],
)
def test_the_schema_rejects_malformed_new_fields(where: str, value: Any) -> None:
    result = make_interrupted_result()
    target = result
    *parents, key = where.split(".")
    for parent in parents:
        target = target[parent]
    target[key] = value
    assert reports.problems(result), where


def test_an_interruption_needs_all_four_fields() -> None:
    result = make_interrupted_result()
    del result["interruption"]["cleanup"]
    assert any("cleanup" in problem for problem in reports.problems(result))


# -- terminal ----------------------------------------------------------------------------------------------


def test_the_terminal_says_partial_and_how_much_ran() -> None:
    lines = reports.terminal_summary(make_partial_result(), PATHS)
    assert lines[-1] == "verdict: PARTIAL (2 of 127 requirements run; not a certification)"
    assert "  ran:       2 of 127 requirements run; the verdict of what ran: conformant" in lines
    # 125 IDs would drown the log: the JSON lists them
    assert "Left out (125): listed in the JSON report's completeness.leftOut" in lines


def test_the_terminal_says_interrupted_by_what_where_and_whether_cleanup_completed() -> None:
    lines = reports.terminal_summary(make_interrupted_result(cleanup="incomplete"), PATHS)
    assert lines[-1] == (
        "verdict: INTERRUPTED (by SIGTERM during suites/test_two_factor.py::test_enable_twice; "
        "2 of 3 requirements run; cleanup incomplete)"
    )
    text = "\n".join(lines)
    assert "stopped by:      SIGTERM" in text
    assert "check in flight: suites/test_two_factor.py::test_enable_twice" in text
    assert "cleanup:         INCOMPLETE (some of what the run changed on the target was not undone)" in text
    assert "Left out (1): BSK-KEY-001" in lines


def test_the_terminal_neutralises_escape_sequences_in_the_interruption() -> None:
    hostile = "suites/x.py::t[\x1b]52;c;cGF5bG9hZA==\x07\x1b[2J\nverdict: CONFORMANT]"
    lines = reports.terminal_summary(make_interrupted_result(check_in_flight=hostile, message=hostile), PATHS)
    assert not any("\x1b" in line or "\x07" in line for line in lines)
    assert lines[-1].startswith("verdict: INTERRUPTED")
    assert sum(line.startswith("verdict:") for line in lines) == 1


def test_a_report_without_completeness_is_summarised_from_its_statuses() -> None:
    result = make_partial_result(run=3, total=5)
    del result["completeness"]
    last = reports.terminal_summary(result, PATHS)[-1]
    assert last == "verdict: PARTIAL (3 of 5 requirements run; not a certification)"


# -- JUnit -------------------------------------------------------------------------------------------------


def test_junit_suite_properties_carry_the_verdict_and_how_much_ran() -> None:
    props = _suite_properties(make_partial_result())
    assert props["verdict"] == "partial"
    assert (props["requirementsRun"], props["requirementsTotal"], props["verdictOfRun"]) == ("2", "127", "conformant")
    assert "interruptionCause" not in props


def test_junit_keeps_its_counts_per_check_and_files_what_did_not_run_as_skipped() -> None:
    root = ET.fromstring(render_junit(make_partial_result()))
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "127",
        "0",
        "0",
        "125",
    )
    left = [case for case in suite.iter("testcase") if case.get("classname") == "BSK-OUT-000"]
    assert left[0].find("skipped").get("message") == "skipped: not run: left out by selection"


def test_junit_names_the_interruption_and_escapes_its_text() -> None:
    hostile = f"interrupted by SIGTERM during {HOSTILE} & ]]> \x00"
    result = make_interrupted_result(check_in_flight=HOSTILE, message=hostile, cleanup="abandoned")
    xml, props = render_junit(result), _suite_properties(result)
    assert props["verdict"] == "interrupted" and props["interruptionCause"] == "SIGTERM"
    assert props["interruptionCheck"] == HOSTILE
    assert props["interruptionMessage"] == f"interrupted by SIGTERM during {HOSTILE} & ]]> \\x00"
    assert props["cleanup"] == "abandoned"
    assert b"<script>" not in xml and b"<img" not in xml


# -- HTML --------------------------------------------------------------------------------------------------


def test_the_html_banner_says_partial_and_the_page_how_much_ran() -> None:
    page = render_html(make_partial_result()).decode()
    assert '<h1 id="verdict" class="verdict" data-verdict="partial">PARTIAL</h1>' in page
    assert 'class="banner verdict-partial"' in page
    text = _text(page)
    assert "Requirements were left out: 2 of 127 requirements run, so this is not a certification." in text
    assert "Of what ran, every MUST requirement passed." in text
    assert "Not a whole run: 2 of 127 requirements run" in text
    assert "Left out (125)" in text and "BSK-OUT-124" in text
    assert "Stopped by" not in text


def test_the_html_names_the_interruption_the_check_and_the_cleanup() -> None:
    page = render_html(make_interrupted_result(cleanup="incomplete")).decode()
    assert '<h1 id="verdict" class="verdict" data-verdict="interrupted">INTERRUPTED</h1>' in page
    text = _text(page)
    assert "The run was interrupted: 2 of 3 requirements run, so this is not a certification." in text
    assert "Of what ran, no MUST requirement failed, but some were not verified" in text
    assert re.search(r"Stopped by\s+SIGTERM", text)
    assert re.search(r"Check in flight\s+suites/test_two_factor.py::test_enable_twice", text)
    assert re.search(r"Cleanup\s+INCOMPLETE", text)


def test_the_html_escapes_a_hostile_interruption() -> None:
    page = render_html(make_interrupted_result(check_in_flight=HOSTILE, message=f"during {HOSTILE}")).decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in page
    assert HOSTILE in _text(page)


def test_a_whole_run_has_no_not_whole_section() -> None:
    whole = copy.deepcopy(make_partial_result(run=2, total=2))
    assert whole["verdict"] == "conformant"
    page = render_html(whole).decode()
    assert 'id="not-whole"' not in page


def test_a_failure_in_what_ran_is_said_on_a_partial_banner() -> None:
    result = make_partial_result(run=2, total=4)
    result["requirements"][0]["status"] = "failed"
    result["requirements"][0]["checks"][0]["outcome"] = "failed"
    finish(result)
    assert result["verdict"] == "partial" and result["completeness"]["verdictOfRun"] == "non-conformant"
    assert "Of what ran, 1 MUST requirement failed." in _text(render_html(result).decode())


def test_the_schemas_enumerate_the_words_of_the_vocabulary() -> None:
    """One list of verdicts: conformance.json, the bundle manifest and the matrix admit exactly these."""
    from bsk_conformance.reports import model, vocabulary

    schema_dir = reports.schema_path().parent
    conformance = json.loads(reports.schema_path().read_text(encoding="utf-8"))
    assert tuple(conformance["properties"]["verdict"]["enum"]) == vocabulary.VERDICTS
    defs = conformance["$defs"]
    assert tuple(defs["completeness"]["properties"]["verdictOfRun"]["enum"]) == vocabulary.RUN_VERDICTS
    assert tuple(defs["interruption"]["properties"]["cleanup"]["enum"]) == vocabulary.CLEANUP_STATES
    assert tuple(model.CLEANUP_LABELS) == vocabulary.CLEANUP_STATES
    manifest = json.loads((schema_dir / "manifest-v1.schema.json").read_text(encoding="utf-8"))
    assert tuple(manifest["properties"]["verdict"]["enum"]) == vocabulary.VERDICTS
    matrix = json.loads((schema_dir / "matrix-v1.schema.json").read_text(encoding="utf-8"))
    assert tuple(matrix["$defs"]["implementation"]["properties"]["verdict"]["enum"]) == vocabulary.VERDICTS
