"""Folding check outcomes into requirement statuses, the verdict and the exit code."""

import pytest

from harness.verdicts import exit_code, requirement_status, run_verdict


@pytest.mark.parametrize(
    ("level", "outcomes", "status"),
    [
        ("MUST", ["passed", "passed"], "passed"),
        ("MUST", ["passed", "failed"], "failed"),
        ("SHOULD", ["failed"], "warning"),
        ("MAY", ["failed"], "warning"),
        ("MUST", ["passed", "error"], "error"),
        ("MUST", ["failed", "error"], "failed"),
        ("MUST", ["passed", "not_verified"], "not_verified"),
        ("MUST", [], "skipped"),
        ("MUST", ["skipped"], "skipped"),
    ],
)
def test_requirement_status(level, outcomes, status):
    assert requirement_status(level, outcomes) == status


@pytest.mark.parametrize(
    ("pairs", "verdict"),
    [
        ([("MUST", "passed"), ("SHOULD", "warning")], "conformant"),
        ([("MUST", "passed"), ("MUST", "failed")], "non-conformant"),
        ([("MUST", "not_verified"), ("MUST", "failed")], "non-conformant"),
        ([("MUST", "not_verified")], "incomplete"),
        ([("MUST", "error")], "incomplete"),
        ([("SHOULD", "error"), ("MUST", "passed")], "conformant"),
        ([("MUST", "skipped"), ("MUST", "passed")], "conformant"),
    ],
)
def test_run_verdict(pairs, verdict):
    assert run_verdict(pairs) == verdict


def test_exit_codes():
    assert exit_code("conformant", warnings=0, strict=False) == 0
    assert exit_code("conformant", warnings=2, strict=False) == 0
    assert exit_code("conformant", warnings=2, strict=True) == 1
    assert exit_code("non-conformant", warnings=0, strict=False) == 1
    assert exit_code("incomplete", warnings=0, strict=False) == 2
