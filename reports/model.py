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
