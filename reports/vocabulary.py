"""The words of a conformance run, named once for the harness and the reports.

Check outcomes, requirement statuses, levels, verdicts, the catalogue's
`verifiable` and `needs` words, the keys of conformance.json's ``summary`` and
the order sections sort in. The harness (catalogue loader, verdict folding,
result builder) and every report writer read them from here, so a new status
or level is added in one place.

Standard library only, and cheap to import: the pytest plugin loads it at
start. It lives with the reports because the report package never imports the
harness (it is what a buyer installs to check a bundle).
"""

from __future__ import annotations

from typing import Final

#: How one check ended (the harness's outcomes; docs/architecture.md).
CHECK_OUTCOMES: Final = ("passed", "failed", "not_verified", "skipped", "error")

#: Requirement statuses, in the order a reader wants them: what broke first,
#: what passed last. A check outcome is a status too, except ``warning``
#: (a broken SHOULD or MAY, decided per requirement).
STATUSES: Final = ("failed", "error", "warning", "not_verified", "skipped", "passed")

STATUS_LABELS: Final = {
    "passed": "passed",
    "failed": "failed",
    "warning": "warning",
    "not_verified": "not verified",
    "skipped": "skipped",
    "error": "error",
}

#: The keys of conformance.json's ``summary`` object, by requirement status.
SUMMARY_KEYS: Final = {
    "passed": "passed",
    "failed": "failed",
    "warning": "warning",
    "not_verified": "notVerified",
    "skipped": "skipped",
    "error": "error",
}

#: Requirement levels (RFC 2119 words), strongest first.
LEVELS: Final = ("MUST", "SHOULD", "MAY")

#: The verdict of what ran, by the usual rules (conformance.json's
#: ``completeness.verdictOfRun``); a whole run's verdict is one of these.
RUN_VERDICTS: Final = ("conformant", "non-conformant", "incomplete")

#: Every verdict a report can record: a run that left requirements out is
#: ``partial``, one that was stopped (a signal, ``-x``/``--maxfail``) is
#: ``interrupted``. Neither is ever certified: a certification is a whole run.
VERDICTS: Final = (*RUN_VERDICTS, "partial", "interrupted")

#: Verdicts of runs that are not whole: ``bundle`` refuses them, ``verify`` fails them.
NOT_WHOLE_VERDICTS: Final = ("partial", "interrupted")

#: Whether an interrupted run undid what it changed on the target
#: (conformance.json's ``interruption.cleanup``).
CLEANUP_STATES: Final = ("complete", "incomplete", "abandoned")

#: Where a requirement can be shown at all: ``any`` target; ``in-process`` (the
#: bundled server's database and logs); ``live-or-in-process`` (a rule of live
#: deployments, which the in-process run shows by deploying the server build live).
VERIFIABLE: Final = ("any", "in-process", "live-or-in-process")

#: What a check may need beyond a target that answers (the catalogue's ``needs``).
NEEDS: Final = ("clock", "second-account", "in-process", "two-factor", "live")


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
