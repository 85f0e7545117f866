"""One story in every output: pytest's summary line, junit.xml (read by a JUnit
consumer's parser), conformance.json and the exit code agree, against the
reference server and against a variant that breaks one SHOULD, with and
without --strict, serially and under xdist.

Each case is a real harness run (a fresh pytest process)."""

from __future__ import annotations

import re
from collections import Counter

import junitparser
import pytest

from tests.harness.conftest import HarnessRun

VARIANT = "--reference-factory=tests.faulty.registry:malleated_signature_accepted"  # breaks BSK-JWT-015, a SHOULD
TWIN = "suites/test_jwt_attacks.py::test_ecdsa_twin_signature_is_refused"

_SUMMARY = re.compile(r"=*\s*(\d+ [a-z].*?) in [\d.]+s(?: \(.*\))?\s*=*")


def summary_counts(output: str) -> dict[str, int]:
    """The counts of pytest's last summary line (`209 passed, 1 warned in 22.05s`).

    pytester's parseoutcomes() reads one word per count; this reads the words
    up to the comma, so `4 not verified` is one outcome."""
    for line in reversed(output.splitlines()):
        match = _SUMMARY.fullmatch(line.strip())
        if match:
            counts = {}
            for part in match.group(1).split(", "):
                number, word = part.split(" ", 1)
                counts[{"errors": "error", "warnings": "warnings"}.get(word, word)] = int(number)
            return counts
    raise AssertionError(f"no summary line in:\n{output[-2000:]}")


def expected_terminal(result: dict, *, strict: bool) -> Counter:
    """How pytest should count the run's check records."""
    counts: Counter = Counter()
    for requirement in result["requirements"]:
        for check in requirement["checks"]:
            outcome = check["outcome"]
            if outcome == "failed" and requirement["level"] != "MUST":
                counts["failed" if strict else "warned"] += 1
            elif outcome != "skipped":  # not run: pytest never saw it
                counts[{"not_verified": "not verified"}.get(outcome, outcome)] += 1
    return counts


def junit_counts(run: HarnessRun) -> dict[str, int]:
    """junit.xml as junitparser reads it: the suite's counts, which its cases must bear out."""
    [suite] = list(junitparser.JUnitXml.fromfile(str(run.report_dir / "junit.xml")))
    cases = list(suite)
    kinds = [{type(r).__name__ for r in case.result} for case in cases]
    counted = {
        "tests": suite.tests,
        "failures": suite.failures,
        "errors": suite.errors,
        "skipped": suite.skipped,
    }
    assert counted == {
        "tests": len(cases),
        "failures": sum("Failure" in k for k in kinds),
        "errors": sum("Error" in k for k in kinds),
        "skipped": sum("Skipped" in k for k in kinds),
    }
    return counted


CASES = {
    # args, exit code, verdict, the requirements warned, counts pytest must show
    "reference": ((), 0, "conformant", set(), {"warned": 0, "failed": 0}),
    "reference, no clock, xdist": (("--clock", "off", "-n", "2"), 2, "incomplete", set(), {"warned": 0}),
    "SHOULD broken": ((VARIANT,), 0, "conformant", {"BSK-JWT-015"}, {"warned": 1, "failed": 0}),
    "SHOULD broken, --strict, xdist": (
        (VARIANT, "--strict", "-n", "2"), 1, "conformant", {"BSK-JWT-015"}, {"warned": 0, "failed": 1}
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_terminal_junit_json_and_exit_code_tell_one_story(run_harness, case: str) -> None:
    args, exit_code, verdict, warned, pinned = CASES[case]
    strict = "--strict" in args
    run = run_harness(*args)
    result = run.result
    assert run.exit_code == exit_code, run.output[-3000:]

    # pytest's summary line counts the check records, in the run's words
    terminal = summary_counts(run.output)
    expected = expected_terminal(result, strict=strict)
    assert terminal == {k: v for k, v in expected.items() if v}
    for word, count in pinned.items():
        assert terminal.get(word, 0) == count, terminal
    assert "skipped" not in terminal  # skipped is for selection: nothing was left out here
    if "--clock" in args:
        assert terminal["not verified"] > 0

    # junit.xml: a warning is a skip unless --strict, then a failure
    junit = junit_counts(run)
    no_check = sum(1 for r in result["requirements"] if not r["checks"])
    assert junit == {
        "tests": sum(expected.values()) + no_check,
        "failures": expected["failed"],
        "errors": expected["error"],
        "skipped": expected["warned"] + expected["not verified"] + no_check,
    }

    # conformance.json: the warned checks are its warnings, and its verdict is the terminal's last line
    assert {r["id"] for r in result["requirements"] if r["status"] == "warning"} == warned
    assert result["summary"]["warning"] == len(warned)
    assert result["verdict"] == verdict
    assert f"verdict: {verdict.upper()}" in run.output
    if warned:
        # the warned check is named as the reports name it, with its rule
        assert f"{'FAILED' if strict else 'WARNED'} {TWIN} - BSK" in run.output  # cut to the terminal's width
        assert "\nBSK-JWT-015 (SHOULD, §8): the target accepted the ECDSA twin" in run.output
    if strict and warned:
        assert "(--strict: 1 warning fails the run)" in run.output
