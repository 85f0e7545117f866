"""The vocabulary of schema v1, shared by every writer.

conformance.json (docs/architecture.md, "conformance.json (schema v1)") is a
plain dict; this module names its enumerations once, orders them for display,
and holds the few words the reports add around them (contract section titles,
what would verify a requirement that was not verified).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

# the statuses as the keys of the ``summary`` object: defined once, with the verdict rules
from .verdict_rules import SUMMARY_KEYS as SUMMARY_KEYS

#: Requirement statuses and check outcomes, in the order a reader wants them:
#: what broke first, what passed last.
STATUSES: Final = ("failed", "error", "warning", "not_verified", "skipped", "passed")


STATUS_LABELS: Final = {
    "passed": "passed",
    "failed": "failed",
    "warning": "warning",
    "not_verified": "not verified",
    "skipped": "skipped",
    "error": "error",
}

LEVELS: Final = ("MUST", "SHOULD", "MAY")

VERDICTS: Final = ("conformant", "non-conformant", "incomplete")

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


def status_rank(status: str) -> int:
    """Position of ``status`` in :data:`STATUSES`; unknown words sort last."""
    try:
        return STATUSES.index(status)
    except ValueError:
        return len(STATUSES)


def level_rank(level: str) -> int:
    """Position of ``level`` in :data:`LEVELS`; unknown words sort last."""
    try:
        return LEVELS.index(level)
    except ValueError:
        return len(LEVELS)


def section_key(section: str) -> tuple[int, ...] | tuple[int, str]:
    """Sort key for a section string such as ``"4"`` or ``"4.2"``: numeric where it can be."""
    try:
        return tuple(int(part) for part in section.split("."))
    except ValueError:
        return (10_000, section)


def top_section(section: str) -> str:
    """The contract section a (sub)section belongs to: ``"4.2"`` -> ``"4"``."""
    return section.split(".", 1)[0].strip() or section


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
