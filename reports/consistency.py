"""Does a conformance.json agree with itself?

Each requirement's status must be what its checks' outcomes fold to, the
summary must count those statuses, and the verdict must follow from them, by
the rules the run used (:mod:`.verdict_rules`). A report edited by hand (a
failed requirement turned passed, a verdict rewritten, a partial run relabelled
conformant, an interruption deleted) breaks one of these,
whatever else was adjusted to hide it, unless every layer was rewritten
consistently, which only a signature can rule out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .verdict_rules import completeness_of, counted_outcomes, overall_verdict, requirement_status, summary_of


def _outcomes(requirement: Mapping[str, Any]) -> list[str]:
    return [str(check.get("outcome")) for check in requirement.get("checks") or []]


def recomputed_problems(result: Mapping[str, Any]) -> list[str]:
    """Every disagreement between a schema-valid result and what its own data implies."""
    found: list[str] = []
    requirements = list(result.get("requirements") or [])
    for requirement in requirements:
        outcomes = _outcomes(requirement)
        expected = requirement_status(str(requirement.get("level")), counted_outcomes(requirement.get("checks") or []))
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
    interruption = result.get("interruption")
    verdict = overall_verdict(requirements, interruption)
    if result.get("verdict") != verdict:
        because = "the run's interruption makes" if interruption is not None else "the requirement statuses make"
        found.append(f"verdict is {result.get('verdict')}, but {because} it {verdict}")
    # optional (reports written before it lack it); when present it must count what the statuses say
    completeness = result.get("completeness")
    if completeness is not None:
        expected_completeness = completeness_of(requirements)
        for key, value in expected_completeness.items():
            if completeness.get(key) != value:
                found.append(
                    f"completeness.{key} is {_short(completeness.get(key))}, but the statuses make it {_short(value)}"
                )
    return found


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _counts(summary: Mapping[str, Any]) -> str:
    return ", ".join(f"{value} {key}" for key, value in summary.items())
