"""The rules that turn check outcomes into statuses and statuses into a verdict.

Written once, here: the harness folds every run with them
(``harness/verdicts.py`` re-exports them, ``harness/results.py`` calls
:func:`verdict_of`), and ``bsk-conformance verify`` recomputes a bundled
report's statuses and verdict with them, so a report edited after the run
cannot agree with itself. They live in ``reports/`` because the report package
never imports the harness (it is what a buyer installs to check a bundle).

Standard library only, and cheap to import: the pytest plugin loads it at start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .vocabulary import SUMMARY_KEYS


def requirement_status(level: str, outcomes: Iterable[str]) -> str:
    """Fold the outcomes of a requirement's checks into its status.

    A single failing check decides (a rule broken once is broken); otherwise an
    error or a not-verified check keeps the requirement from passing. A broken
    SHOULD or MAY is a warning, never a failure.
    """
    seen = set(outcomes)
    if not seen:
        return "skipped"
    if "failed" in seen:
        return "failed" if level == "MUST" else "warning"
    if "error" in seen:
        return "error"
    if "skipped" in seen:
        return "skipped"  # not run whole: never passed on the strength of the checks that did run
    if "not_verified" in seen:
        return "not_verified"
    return "passed"


def run_verdict(statuses: Iterable[tuple[str, str]]) -> str:
    """The verdict from (level, status) pairs of every requirement that counts."""
    pairs = list(statuses)
    if any(level == "MUST" and status == "failed" for level, status in pairs):
        return "non-conformant"
    if any(level == "MUST" and status in ("not_verified", "error") for level, status in pairs):
        return "incomplete"
    return "conformant"


def counts_toward_verdict(requirement: Mapping[str, Any]) -> bool:
    """False for a requirement no target of this kind could show (``applicable``
    false) that stayed not verified: it does not make the run incomplete."""
    return requirement.get("applicable", True) is not False or requirement.get("status") != "not_verified"


def verdict_of(requirements: Iterable[Mapping[str, Any]]) -> str:
    """The run's verdict from its schema-v1 requirement entries (``level``, ``status``, ``applicable``)."""
    return run_verdict((str(r["level"]), str(r["status"])) for r in requirements if counts_toward_verdict(r))


def summary_of(requirements: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """conformance.json's ``summary``: how many requirements ended in each status."""
    counts = dict.fromkeys(SUMMARY_KEYS.values(), 0)
    for requirement in requirements:
        key = SUMMARY_KEYS.get(str(requirement.get("status")))
        if key is not None:
            counts[key] += 1
    return counts


def overall_verdict(requirements: Iterable[Mapping[str, Any]], interruption: Mapping[str, Any] | None) -> str:
    """The run's verdict: interrupted, partial (a requirement not run whole), or verdict_of's."""
    requirements = list(requirements)
    if interruption:
        return "interrupted"
    if any(r.get("status") == "skipped" for r in requirements):
        return "partial"
    return verdict_of(requirements)


def completeness_of(requirements: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """conformance.json's ``completeness``: how much of the catalogue ran, and the verdict of what did."""
    requirements = list(requirements)
    left_out = sorted(str(r["id"]) for r in requirements if r.get("status") == "skipped")
    return {
        "requirementsRun": len(requirements) - len(left_out),
        "requirementsTotal": len(requirements),
        "leftOut": left_out,
        "verdictOfRun": verdict_of(requirements),
    }
