"""junit.xml: one testcase per check; a broken rule is a failure, a target or harness problem an error."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from synthetic_results import check, envelope, exchange, requirement

from bsk_conformance.reports.junit import render_junit


def _cases(result: dict[str, Any]) -> tuple[ET.Element, dict[str, ET.Element]]:
    root = ET.fromstring(render_junit(result))
    cases = {case.get("name"): case for case in root.iter("testcase")}
    return root, cases


def _props(case: ET.Element) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in case.find("properties")}


def test_one_testcase_per_check_named_by_requirement_and_nodeid(result: dict[str, Any]) -> None:
    root, cases = _cases(result)
    expected = sum(max(1, len(r["checks"])) for r in result["requirements"])
    assert len(cases) == expected
    case = cases["suites/test_token_lifetimes.py::test_access_token_lifetime"]
    assert case.get("classname") == "BSK-TOK-002"
    assert _props(case) == {
        "requirement": "BSK-TOK-002",
        "level": "MUST",
        "section": "4",
        "title": "Access token lifetime is 900 s",
        "requirementStatus": "failed",
        "outcome": "failed",
    }


def test_failed_is_a_failure_and_error_is_an_error(result: dict[str, Any]) -> None:
    _, cases = _cases(result)
    failed = cases["suites/test_token_lifetimes.py::test_access_token_lifetime"]
    assert [child.tag for child in failed if child.tag != "properties"] == ["failure"]
    failure = failed.find("failure")
    assert failure.get("type") == "requirement"
    assert failure.get("message") == "expected exp - iat = 900"
    assert "observed exp - iat = 3600" in failure.text
    assert "Claims: sub, org, iat" in failure.text
    assert "GET http://127.0.0.1:8000/me -> 200" in failure.text

    errored = cases["suites/test_token_lifetimes.py::test_access_token_expires"]
    assert [child.tag for child in errored if child.tag != "properties"] == ["error"]
    assert errored.find("error").get("message").startswith("target problem: ReadTimeout")
    assert "-> no response (ReadTimeout: timed out)" in errored.find("error").text


def test_a_should_warning_is_skipped_not_failed(result: dict[str, Any]) -> None:
    root, cases = _cases(result)
    warned = cases["suites/test_token_lifetimes.py::test_rotation_family"]
    assert warned.find("failure") is None and warned.find("error") is None
    skipped = warned.find("skipped")
    assert skipped.get("type") == "warning"
    assert skipped.get("message") == "warning: SHOULD not met: expected 401 invalid_token, observed 200"
    assert _props(warned)["outcome"] == "warning"
    # so a dashboard counts one failure (the MUST), not two
    assert root.get("failures") == "1"


def test_not_verified_and_skipped_are_skipped_with_their_reason(result: dict[str, Any]) -> None:
    _, cases = _cases(result)
    nv = cases["suites/test_rate_limits.py::test_window"].find("skipped")
    assert nv.get("type") == "not_verified" and nv.get("message") == "not verified: needs 60 s"
    # requirements without any check still appear, with the requirement's reason
    no_check = cases["BSK-ORG-001 (no check ran)"]
    assert no_check.get("classname") == "BSK-ORG-001"
    assert no_check.find("skipped").get("message") == "not verified: the profile has one account"
    sk = cases["BSK-CLK-002 (no check ran)"].find("skipped")
    assert sk.get("type") == "skipped" and sk.get("message") == "skipped: not run: left out by selection"


def test_a_passed_check_has_no_outcome_element(result: dict[str, Any]) -> None:
    _, cases = _cases(result)
    passed = cases["suites/test_token_lifetimes.py::test_login_shape"]
    assert [child.tag for child in passed] == ["properties"]


def test_suite_counts_and_properties(result: dict[str, Any]) -> None:
    root, _ = _cases(result)
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "9",
        "1",
        "1",
        "4",
    )
    assert root.get("tests") == "9"
    props = _props(suite)
    # one requirement of the nine was left out: a partial run, non-conformant in what ran
    assert props["verdict"] == "partial" and props["verdictOfRun"] == "non-conformant"
    assert (props["requirementsRun"], props["requirementsTotal"]) == ("8", "9")
    assert props["target"] == "http://127.0.0.1:8000"
    assert props["gitCommit"] == "8e4b0e8c1a2b"
    assert suite.get("timestamp") == "2026-11-27T23:40:00Z"


def test_hostile_and_invalid_xml_characters_still_make_valid_xml() -> None:
    message = 'observed <script>alert("x")</script> & \x00\x1b[31m ]]> \ud800'
    result = envelope(
        [
            requirement(
                "BSK-X-001", "failed", checks=[check("t::<x>&", "failed", message, [exchange(response_body=message)])]
            )
        ]
    )
    xml = render_junit(result)
    root = ET.fromstring(xml)  # would raise on invalid XML
    case = next(root.iter("testcase"))
    assert case.get("name") == "t::<x>&"
    assert '<script>alert("x")</script>' in case.find("failure").get("message")
    assert "\\x00\\x1b[31m" in case.find("failure").get("message")
    assert b"<script>" not in xml


def _should_broken_result() -> dict[str, Any]:
    """As a real run records it: the check's outcome is `failed`, its SHOULD requirement's status `warning`."""
    return envelope(
        [
            requirement("BSK-TOK-002", "passed"),
            requirement(
                "BSK-JWT-015",
                "warning",
                level="SHOULD",
                section="8",
                reason="the twin was accepted",
                checks=[check("suites/test_jwt_attacks.py::test_ecdsa_twin_signature_is_refused", "failed",
                              "the target accepted the ECDSA twin")],
            ),
            requirement("BSK-RL-001", "not_verified", reason="needs 60 s"),
        ]
    )


def _read_by_a_junit_consumer(xml: bytes, tmp_path) -> dict[str, int]:
    """The counts as junitparser (a JUnit consumer's parser) reads them, from the
    suite's attributes and from its cases, which must agree."""
    import junitparser

    path = tmp_path / "junit.xml"
    path.write_bytes(xml)
    [suite] = list(junitparser.JUnitXml.fromfile(str(path)))
    by_case = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for case in suite:
        by_case["tests"] += 1
        kinds = {type(r).__name__ for r in case.result}
        by_case["failures"] += "Failure" in kinds
        by_case["errors"] += "Error" in kinds
        by_case["skipped"] += "Skipped" in kinds
    attributes = {"tests": suite.tests, "failures": suite.failures, "errors": suite.errors, "skipped": suite.skipped}
    assert attributes == by_case
    return by_case


def test_a_failed_check_of_a_should_is_a_warning_not_a_failure(tmp_path) -> None:
    xml = render_junit(_should_broken_result())
    assert _read_by_a_junit_consumer(xml, tmp_path) == {"tests": 3, "failures": 0, "errors": 0, "skipped": 2}
    case = {c.get("name"): c for c in ET.fromstring(xml).iter("testcase")}[
        "suites/test_jwt_attacks.py::test_ecdsa_twin_signature_is_refused"
    ]
    skipped = case.find("skipped")
    assert skipped.get("type") == "warning"
    assert skipped.get("message") == "warning: SHOULD not met: the target accepted the ECDSA twin"
    assert _props(case)["outcome"] == "failed" and _props(case)["requirementStatus"] == "warning"


def test_with_strict_a_failed_check_of_a_should_is_a_failure(tmp_path) -> None:
    xml = render_junit(_should_broken_result(), strict=True)
    assert _read_by_a_junit_consumer(xml, tmp_path) == {"tests": 3, "failures": 1, "errors": 0, "skipped": 1}
    failure = next(ET.fromstring(xml).iter("failure"))
    assert failure.get("message") == "SHOULD not met (--strict): the target accepted the ECDSA twin"
