"""The rules that turn check outcomes into statuses and statuses into a verdict.

Written once, here: the harness folds every run with them
(``harness/verdicts.py`` re-exports them, ``harness/results.py`` calls
:func:`overall_verdict` and :func:`completeness_of`), and ``bsk-conformance
verify`` recomputes a bundled report's statuses and verdict with them, so a
report edited after the run cannot agree with itself.

Two layers of verdict: :func:`verdict_of` is the usual rule applied to what
ran (conformant, non-conformant, incomplete; a requirement left out does not
make a run incomplete), and :func:`overall_verdict` is what the run as a whole
shows: ``interrupted`` when it was stopped, ``partial`` when any requirement
was left out (not run, or not run whole), else the usual verdict. A run
certifies only what it ran, so neither of the two is ever conformant.

They live in ``reports/`` because the report package never imports the
harness (it is what a buyer installs to check a bundle).

Standard library only, and cheap to import: the pytest plugin loads it at start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .vocabulary import SUMMARY_KEYS


def requirement_status(level: str, outcomes: Iterable[str]) -> str:
    """Fold the outcomes of a requirement's checks into its status.

    A single failing check decides (a rule broken once is broken); otherwise an
    error keeps the requirement from passing. A requirement not run whole (one
    of its checks skipped: left out by selection, or not reached before an
    interruption) is ``skipped`` even if its other checks passed: what did not
    run shows nothing. A broken SHOULD or MAY is a warning, never a failure.
    """
    seen = set(outcomes)
    if not seen:
        return "skipped"
    if "failed" in seen:
        return "failed" if level == "MUST" else "warning"
    if "error" in seen:
        return "error"
    if "skipped" in seen:
        return "skipped"
    if "not_verified" in seen:
        return "not_verified"
    return "passed"


def counted_outcomes(checks: Iterable[Mapping[str, Any]]) -> list[str]:
    """The outcomes a requirement's status folds (:func:`requirement_status`).

    Every check's, but for a ``not_verified`` check marked ``supplementary``
    while another check of the requirement, not so marked, passed. Such a
    check judges again what the other checks judge (the model-based run), and
    was not verified for a reason of the run's own making, not the target's
    (a real clock: the run leaves out the operations that move time). The
    check that passed verified the requirement; the supplementary one adds
    nothing either way, and its entry says why. Without a check that passed,
    its outcome counts like any other.
    """
    entries = list(checks)
    verified = any(c.get("outcome") == "passed" and not c.get("supplementary") for c in entries)
    return [str(c.get("outcome")) for c in entries
            if not (verified and c.get("supplementary") and c.get("outcome") == "not_verified")]


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


def completeness_of(requirements: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """conformance.json's ``completeness``: how much of the run's requirements ran whole.

    ``leftOut`` lists the requirements whose status is ``skipped`` (sorted IDs);
    ``verdictOfRun`` is :func:`verdict_of` applied to the requirements, which is
    the verdict of what ran.
    """
    entries = list(requirements)
    left_out = sorted(str(r.get("id")) for r in entries if r.get("status") == "skipped")
    return {
        "requirementsRun": len(entries) - len(left_out),
        "requirementsTotal": len(entries),
        "leftOut": left_out,
        "verdictOfRun": verdict_of(entries),
    }


def overall_verdict(requirements: Iterable[Mapping[str, Any]], interruption: Mapping[str, Any] | None) -> str:
    """The run's verdict, as conformance.json's ``verdict`` records it.

    ``interrupted`` when the run was stopped (``interruption`` is the report's
    object of that name, None when the run ended by itself); else ``partial``
    when any requirement was left out; else the usual :func:`verdict_of`.
    """
    entries = list(requirements)
    if interruption is not None:
        return "interrupted"
    if any(r.get("status") == "skipped" for r in entries):
        return "partial"
    return verdict_of(entries)


def summary_of(requirements: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """conformance.json's ``summary``: how many requirements ended in each status."""
    counts = dict.fromkeys(SUMMARY_KEYS.values(), 0)
    for requirement in requirements:
        key = SUMMARY_KEYS.get(str(requirement.get("status")))
        if key is not None:
            counts[key] += 1
    return counts
