"""Does a conformance.json agree with itself?

Each requirement's status must be what its checks' outcomes fold to, the
summary must count those statuses, and the verdict must follow from them, by
the rules the run used (:mod:`.verdict_rules`). A report edited by hand (a
failed requirement turned passed, a verdict rewritten) breaks one of these,
whatever else was adjusted to hide it, unless every layer was rewritten
consistently, which only a signature can rule out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .verdict_rules import requirement_status, summary_of, verdict_of


def _outcomes(requirement: Mapping[str, Any]) -> list[str]:
    return [str(check.get("outcome")) for check in requirement.get("checks") or []]


def recomputed_problems(result: Mapping[str, Any]) -> list[str]:
    """Every disagreement between a schema-valid result and what its own data implies."""
    found: list[str] = []
    requirements = list(result.get("requirements") or [])
    for requirement in requirements:
        outcomes = _outcomes(requirement)
        expected = requirement_status(str(requirement.get("level")), outcomes)
        if requirement.get("status") != expected:
            shown = ", ".join(sorted(set(outcomes))) or "no checks"
            found.append(
                f"requirement {requirement.get('id')} is {requirement.get('status')!s}, "
                f"but its checks ({shown}) make it {expected}"
            )
    summary = summary_of(requirements)
    # the counts by status; `exchanges` (optional) counts traffic, not statuses
    if {k: v for k, v in dict(result.get("summary") or {}).items() if k != "exchanges"} != summary:
        found.append(f"summary {_counts(result.get('summary') or {})} does not count the statuses ({_counts(summary)})")
    verdict = verdict_of(requirements)
    if result.get("verdict") != verdict:
        found.append(f"verdict is {result.get('verdict')}, but the requirement statuses make it {verdict}")
    return found


def _counts(summary: Mapping[str, Any]) -> str:
    return ", ".join(f"{value} {key}" for key, value in summary.items())
