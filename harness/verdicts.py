"""Outcomes of checks, statuses of requirements, and the run's verdict.

A check ends in one of: passed, failed (the target broke the rule),
not_verified (the harness could not establish the fact: no clock control, no
second account...), skipped (left out by selection) or error (the harness or
the target's transport failed, the target broke a precondition of the check
(`PreconditionFailed`) or undoing the check failed (`CleanupFailed`): the rule
was neither shown kept nor broken).
A requirement's status folds its checks' outcomes with its level: a broken
SHOULD or MAY is a warning, never a failure.
"""

from __future__ import annotations

import httpx
import pytest

from bsk_conformance.harness.quoting import describe

# The words (outcomes, statuses) and the folding rules are shared with the
# reports and `bsk-conformance verify`, which recomputes a bundled report's
# statuses and verdict; they live in the report package, which never imports
# the harness.
from bsk_conformance.reports.verdict_rules import requirement_status, run_verdict
from bsk_conformance.reports.vocabulary import CHECK_OUTCOMES, STATUSES

__all__ = [
    "CHECK_OUTCOMES",
    "STATUSES",
    "CheckFailed",
    "NotVerified",
    "exit_code",
    "run_exit_code",
    "not_verified",
    "requirement_status",
    "run_verdict",
]

# Exit codes (README, "Exit codes").
EXIT_CONFORMANT = 0
EXIT_NON_CONFORMANT = 1
EXIT_INCOMPLETE = 2
EXIT_USAGE = 3


class CheckFailed(AssertionError):
    """The target broke the rule under check; the message says expected vs observed."""


class PreconditionFailed(Exception):
    """The target broke something a check needs before it can judge its rule
    (a fresh login or refresh refused, the genuine token no longer accepted):
    the check ends in error, naming the target's answer, never in a verdict.

    Not an AssertionError on purpose: it must never read as the rule broken."""

    def __init__(self, message: str, response: httpx.Response | None = None) -> None:
        if response is not None:
            message = f"{message}: {describe(response)}"
        super().__init__(message)
        self.response = response


class CleanupFailed(Exception):
    """Undoing what a check did (keys, projects, 2FA, a locked account) failed:
    reported as a cleanup failure, never as the verdict of the rule under check."""


class NotVerified(pytest.skip.Exception):  # type: ignore[misc,name-defined]
    """The harness could not establish the rule either way; never a pass.

    It derives from pytest's skip outcome so pytest stops the check cleanly;
    the plugin tells it apart from an ordinary skip and reports `not_verified`.
    """

    def __init__(self, reason: str, *, supplementary: bool = False) -> None:
        super().__init__(msg=f"not verified: {reason}", allow_module_level=False)
        self.reason = reason
        # the check judges again what its requirement's other checks judge, and the
        # run (not the target) kept it from doing so: reports/verdict_rules.py counted_outcomes
        self.supplementary = supplementary


def not_verified(reason: str, *, supplementary: bool = False) -> None:
    """Stop the current check and report it as not verified, with the reason."""
    raise NotVerified(reason, supplementary=supplementary)


def run_exit_code(result: dict, *, strict: bool) -> int:
    """The exit code of a run from its schema-v1 result.

    Interrupted: pytest's INTERRUPTED (2), never 0. Partial: the code the
    verdict of what ran would give (a selection whose checks all held exits 0:
    pytest users select on purpose), while the verdict itself is never
    conformant."""
    verdict = result["verdict"]
    if verdict == "partial":
        verdict = result["completeness"]["verdictOfRun"]
    return exit_code(verdict, warnings=result["summary"]["warning"], strict=strict)


def exit_code(verdict: str, *, warnings: int, strict: bool) -> int:
    if verdict == "interrupted":
        return EXIT_INCOMPLETE
    if verdict == "non-conformant":
        return EXIT_NON_CONFORMANT
    if verdict == "incomplete":
        return EXIT_INCOMPLETE
    if strict and warnings:
        return EXIT_NON_CONFORMANT
    return EXIT_CONFORMANT
