"""The words the reports add around a run's vocabulary.

The run's own words (statuses, levels, verdicts, section order) are named once,
for the harness and the reports alike, in ``vocabulary.py``. This module holds
what only a reader of conformance.json needs beside them: contract section
titles, how each clock mode moves time, what would verify a requirement that
was not verified, and the labels of the target's fingerprint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .transcripts import clip, visible
from .verdict_rules import completeness_of
from .vocabulary import level_rank, section_key, status_rank

#: Titles of the contract's sections (docs/spec.md), for the per-section table.
SECTION_TITLES: Final = {
    "1": "Documented behaviour",
    "2": "Wire format",
    "3": "Endpoints",
    "4": "Tokens and keys",
    "5": "Rate limits",
    "6": "Test-environment clock control",
    "7": "Pointing the harness at a target",
    "8": "Precise readings",
}

#: What would verify a requirement, by the catalogue's ``needs`` words.
NEEDS_HINTS: Final = {
    "clock": "run against a target with /_test/clock or raise --real-time-budget",
    "in-process": "only the bundled server run in-process can show this",
    "second-account": "add a second account in another organization to the profile",
    "live": "run against a live (bsk_live_) deployment, or the bundled server in-process",
}

#: How each clock mode moves time, for the report header.
CLOCK_LABELS: Final = {
    "frozen": "frozen (in-process, moved directly)",
    "control": "control (target's /_test/clock)",
    "real": "real time (within --real-time-budget)",
    "off": "off (time-dependent checks not verified)",
}


def requirement_sort_key(req: Mapping[str, Any]) -> tuple[Any, ...]:
    """Failed MUST requirements first, then by status, level, section and ID."""
    return (
        status_rank(req.get("status", "")),
        level_rank(req.get("level", "")),
        section_key(str(req.get("section", ""))),
        str(req.get("id", "")),
    )


def verify_hints(req: Mapping[str, Any]) -> list[str]:
    """What would verify a requirement that was not verified, in the reader's words."""
    needs = [str(n) for n in req.get("needs") or []]
    if not needs and req.get("verifiable") == "in-process":
        needs = ["in-process"]
    if not needs and req.get("verifiable") == "live-or-in-process":
        needs = ["live"]
    return [NEEDS_HINTS.get(n, f"provide: {n}") for n in needs]


# targetFingerprint: what exactly was certified, shown beside the target.
# Keys another harness version adds are shown under their own name.
FINGERPRINT_LABELS: Final = {
    "tlsVersion": "TLS version",
    "tlsCertificateSha256": "Server certificate SHA-256",
    "jwksSha256": "JWKS SHA-256",
    "serverHeader": "Server header",
}


def fingerprint_items(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) for each entry of the result's targetFingerprint that
    holds a value (a null is a fact the target did not offer, e.g. TLS over
    http); the values come partly from the target, so callers escape and cap them."""
    fingerprint = result.get("targetFingerprint")
    if not isinstance(fingerprint, Mapping):
        return []
    return [
        (FINGERPRINT_LABELS.get(str(key), str(key)), str(value))
        for key, value in fingerprint.items()
        if value is not None
    ]


# -- runs that are not whole: partial (requirements left out) and interrupted --------------------------------

#: What an interrupted run's ``cleanup`` word means, for the reader.
CLEANUP_LABELS: Final = {
    "complete": "complete (the target was left as the run found it)",
    "incomplete": "INCOMPLETE (some of what the run changed on the target was not undone)",
    "abandoned": "ABANDONED (a second signal stopped it; the target may still hold what the run changed)",
}


def completeness(result: Mapping[str, Any]) -> dict[str, Any]:
    """The result's ``completeness`` object, or the same computed from its
    statuses (a report written before the object existed)."""
    recorded = result.get("completeness")
    if isinstance(recorded, Mapping):
        return dict(recorded)
    return completeness_of(result.get("requirements") or [])


def run_extent(result: Mapping[str, Any]) -> str:
    """``"2 of 127 requirements run"``."""
    counts = completeness(result)
    return f"{counts['requirementsRun']} of {counts['requirementsTotal']} requirements run"


def interruption_of(result: Mapping[str, Any]) -> Mapping[str, Any] | None:
    interruption = result.get("interruption")
    return interruption if isinstance(interruption, Mapping) else None


def verdict_tag(result: Mapping[str, Any]) -> str:
    """The verdict in a few words for a table cell: ``"partial (2/127)"``,
    ``"interrupted (SIGTERM)"``, else the verdict itself. The cause comes from
    the report: callers cap and escape it."""
    verdict = str(result.get("verdict", ""))
    if verdict == "partial":
        counts = completeness(result)
        return f"partial ({counts['requirementsRun']}/{counts['requirementsTotal']})"
    interruption = interruption_of(result)
    if verdict == "interrupted" and interruption is not None:
        return f"interrupted ({interruption.get('cause')})"
    return verdict


def interruption_facts(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) of an interrupted run: cause, the check it stopped in,
    the harness's message and the cleanup; empty when the run was not
    interrupted. The values come from the report: callers escape and cap them."""
    interruption = interruption_of(result)
    if interruption is None:
        return []
    cleanup = str(interruption.get("cleanup"))
    return [
        ("Stopped by", str(interruption.get("cause"))),
        ("Check in flight", str(interruption.get("check") or "none (between checks)")),
        ("Message", str(interruption.get("message") or "")),
        ("Cleanup", CLEANUP_LABELS.get(cleanup, cleanup)),
    ]


def one_line(value: Any, limit: int = 200) -> str:
    """Text from a report made safe for one terminal line: no escape sequence
    or line break survives, and it is capped."""
    text, note = clip(str(value), limit)
    return visible(text).replace("\n", " ") + (" […]" if note else "")


def not_whole_reason(result: Mapping[str, Any], verdict: str | None = None) -> str | None:
    """Why a run cannot be certified, as one terminal-safe line (None for a whole run):
    ``"the run is partial (2 of 127 requirements run)"`` or ``"the run was
    interrupted by SIGTERM (during …; 40 of 127 requirements run; cleanup complete)"``.

    ``verdict`` overrides the recorded one (``verify`` passes the recomputed verdict).
    """
    verdict = verdict or str(result.get("verdict", ""))
    if verdict == "partial":
        return f"the run is partial ({run_extent(result)})"
    if verdict != "interrupted":
        return None
    interruption = interruption_of(result) or {}
    during = f"during {one_line(interruption['check'])}; " if interruption.get("check") else ""
    return (
        f"the run was interrupted by {one_line(interruption.get('cause', 'an unknown cause'), 64)} "
        f"({during}{run_extent(result)}; cleanup {one_line(interruption.get('cleanup', 'unknown'), 20)})"
    )
