"""conformance.json against the shipped JSON Schema (schema v1)."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from synthetic_results import make_result

from bsk_conformance import reports
from bsk_conformance.reports.consistency import recomputed_problems


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads(reports.schema_path().read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_the_schema_ships_inside_the_package() -> None:
    path = reports.schema_path()
    assert path.name == "conformance-v1.schema.json"
    assert path.parent.name == "schema" and path.parent.parent.name == "reports"


def test_a_realistic_result_is_valid(result: dict[str, Any]) -> None:
    reports.validate(result)
    assert reports.problems(result) == []


def test_the_written_json_validates_against_the_schema(result: dict[str, Any], tmp_path) -> None:
    paths = reports.write_reports(result, tmp_path)
    written = json.loads(paths["json"].read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json.loads(reports.schema_path().read_text())).validate(written)
    assert written == result


def test_the_documented_extra_fields_are_allowed(result: dict[str, Any]) -> None:
    result["catalogueDigest"] = "sha256:00"
    result["profileDigest"] = None
    result["gitCommit"] = None
    result["preflightNotes"] = ["no clock control: time-dependent checks run in real time"]
    result["requirements"][0].update(sentence="…", verifiable="in-process", needs=["in-process"])
    reports.validate(result)


def test_the_minimal_result_needs_no_extras() -> None:
    minimal = make_result()
    for key in ("catalogueDigest", "profileDigest", "gitCommit"):
        del minimal[key]
    for req in minimal["requirements"]:
        for key in ("sentence", "verifiable", "needs"):
            del req[key]
    reports.validate(minimal)


def _mutated(mutate) -> dict[str, Any]:
    result = copy.deepcopy(make_result())
    mutate(result)
    return result


INVALID = {
    "missing verdict": (lambda r: r.pop("verdict"), "'verdict' is a required property"),
    "unknown verdict": (lambda r: r.update(verdict="passed"), "$.verdict"),
    "snake_case summary key": (
        lambda r: r["summary"].update(not_verified=r["summary"].pop("notVerified")),
        "$.summary",
    ),
    "unknown status": (lambda r: r["requirements"][0].update(status="ok"), "$.requirements[0].status"),
    "unknown level": (lambda r: r["requirements"][0].update(level="MUST NOT"), "$.requirements[0].level"),
    "unknown outcome": (
        lambda r: r["requirements"][0]["checks"][0].update(outcome="xfail"),
        "$.requirements[0].checks[0].outcome",
    ),
    "section as a number": (lambda r: r["requirements"][0].update(section=4), "$.requirements[0].section"),
    "reason missing": (lambda r: r["requirements"][0].pop("reason"), "'reason' is a required property"),
    "schemaVersion 2": (lambda r: r.update(schemaVersion=2), "$.schemaVersion"),
    "misspelt top-level field": (lambda r: r.update(harness_version="0.1.0"), "harness_version"),
    "undeclared requirement field": (lambda r: r["requirements"][0].update(severity="high"), "severity"),
    "negative count": (lambda r: r["summary"].update(passed=-1), "$.summary.passed"),
    "evidence without status": (
        lambda r: r["requirements"][0]["checks"][0]["evidence"][0].pop("status"),
        "'status' is a required property",
    ),
    "duplicate requirement ID": (
        lambda r: r["requirements"].append(copy.deepcopy(r["requirements"][0])),
        "duplicate requirement ID",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_an_invalid_result_fails_with_a_clear_message(case: str) -> None:
    mutate, expected = INVALID[case]
    with pytest.raises(reports.InvalidResult) as raised:
        reports.validate(_mutated(mutate))
    message = str(raised.value)
    assert message.startswith("not a valid conformance result (schema v1): ")
    assert "\n" not in message
    assert any(expected in problem for problem in raised.value.problems), raised.value.problems


def test_every_problem_is_listed_and_the_message_counts_them() -> None:
    broken = _mutated(lambda r: (r.pop("verdict"), r["requirements"][0].update(status="ok")))
    with pytest.raises(reports.InvalidResult) as raised:
        reports.validate(broken)
    assert len(raised.value.problems) == 2
    assert "(and 1 more)" in str(raised.value)


def test_write_reports_refuses_an_invalid_result_and_writes_nothing(tmp_path) -> None:
    with pytest.raises(reports.InvalidResult):
        reports.write_reports(_mutated(lambda r: r.update(verdict="maybe")), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_requirement_passed_beside_a_supplementary_check_agrees_with_itself() -> None:
    """A fixed check passed; the model run's check, left out by the run's clock, is marked
    supplementary: the report is valid and consistent. The same report without the mark
    does not agree with itself (the requirement would be not verified)."""
    result = make_result()
    before = recomputed_problems(result)  # the sample's own (its checks are not all foldable ones)
    (token,) = [r for r in result["requirements"] if r["id"] == "BSK-TOK-001"]
    token["checks"].append({**token["checks"][0], "nodeid": "suites/test_model_run.py::test_model_run_login",
                            "outcome": "not_verified", "message": "left out by --clock real", "supplementary": True})
    reports.validate(result)
    assert recomputed_problems(result) == before
    del token["checks"][-1]["supplementary"]
    found = [problem for problem in recomputed_problems(result) if problem not in before]
    assert len(found) == 1 and any("BSK-TOK-001 is passed" in problem and "make it not_verified" in problem for problem in found), found


def test_only_true_marks_a_check_supplementary() -> None:
    result = make_result()
    result["requirements"][0]["checks"][0]["supplementary"] = False
    with pytest.raises(Exception):
        reports.validate(result)
