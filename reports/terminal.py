"""The lines the harness prints at the end of a run.

Plain text, no colour codes: the harness hands them to pytest's terminal
writer, which may add its own. The verdict comes last, so that the last line
of a CI log says what happened.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import model, vocabulary
from .transcripts import clip, visible

_LABELS = {"json": "JSON", "html": "HTML", "junit": "JUnit", "har": "HAR"}
#: A partial run lists the requirements it left out up to this many (`-k` on
#: one area leaves out most of the catalogue: then the JSON report lists them).
_LISTED_LEFT_OUT = 30


def _id_lines(label: str, ids: list[str]) -> list[str]:
    """``label: A, B, C`` wrapped under the label, every ID listed."""
    text = ", ".join(ids)
    indent = " " * (len(label) + 2)
    return textwrap.wrap(text, width=100, initial_indent=f"{label}: ", subsequent_indent=indent, break_on_hyphens=False)


def _line(value: str, limit: int = 200) -> str:
    """A value the target chose (a Server header), safe for a terminal: no
    escape sequence or line break survives, and it is capped."""
    text, note = clip(value, limit)
    return visible(text).replace("\n", " ") + (" […]" if note else "")


def terminal_summary(result: Mapping[str, Any], paths: Mapping[str, Path], *, strict: bool = False) -> list[str]:
    """The end-of-run summary: counts, failed MUST IDs, report paths, then the verdict.

    ``paths`` is what :func:`reports.write_reports` returned. The last line is
    always ``verdict: <VERDICT>``; for a run that is not whole it goes on to say
    how much ran (and, interrupted, by what, in which check, whether cleanup
    completed), so that the last line of a CI log is never mistaken for a pass.
    ``strict`` (the run's --strict) says on that line that warnings fail the run.
    """
    requirements = list(result.get("requirements") or [])
    summary = result.get("summary") or {}
    counts = ", ".join(
        f"{summary.get(vocabulary.SUMMARY_KEYS[s], 0)} {vocabulary.STATUS_LABELS[s]}"
        for s in reversed(vocabulary.STATUSES)
    )
    lines = [
        f"BSK conformance of {result.get('target')} (clock: {result.get('clock')}): {len(requirements)} requirements"
    ]
    fingerprint = model.fingerprint_items(result)
    if fingerprint:
        lines.append("  target:    " + ", ".join(f"{label} {_line(value)}" for label, value in fingerprint))
    lines.append(f"  by status: {counts}")
    if "exchanges" in summary:
        lines.append(f"  exchanges: {summary['exchanges']} with the target")
    by_level = Counter(str(r.get("level")) for r in requirements)
    failed_by_level = Counter(str(r.get("level")) for r in requirements if r.get("status") in ("failed", "warning"))
    if by_level:
        lines.append(
            "  by level:  "
            + ", ".join(
                f"{level} {by_level[level]} ({failed_by_level[level]} broken)"
                for level in vocabulary.LEVELS
                if by_level[level]
            )
        )

    failed_must = sorted(
        str(r.get("id")) for r in requirements if r.get("level") == "MUST" and r.get("status") == "failed"
    )
    if failed_must:
        lines += _id_lines(f"Failed MUST ({len(failed_must)})", failed_must)
    open_must = sorted(
        str(r.get("id"))
        for r in requirements
        if r.get("level") == "MUST" and r.get("status") in ("not_verified", "error")
    )
    if open_must:
        lines += _id_lines(f"MUST not verified or in error ({len(open_must)})", open_must)
    warnings = sorted(str(r.get("id")) for r in requirements if r.get("status") == "warning")
    if warnings:
        lines += _id_lines(f"Warnings, SHOULD/MAY ({len(warnings)})", warnings)

    lines += _not_whole_lines(result)
    for key in ("html", "json", "junit", "har"):
        if key in paths:
            lines.append(f"{_LABELS[key]} report: {paths[key]}")
    line = _verdict_line(result)
    if strict and warnings:
        line += f" (--strict: {len(warnings)} {'warning fails' if len(warnings) == 1 else 'warnings fail'} the run)"
    lines.append(line)
    return lines


def _not_whole_lines(result: Mapping[str, Any]) -> list[str]:
    """What a partial or interrupted run left out and how it stopped; nothing for a whole run."""
    verdict = str(result.get("verdict", ""))
    if verdict not in vocabulary.NOT_WHOLE_VERDICTS:
        return []
    counts = model.completeness(result)
    lines = [f"  ran:       {model.run_extent(result)}; the verdict of what ran: {counts['verdictOfRun']}"]
    left_out = [str(i) for i in counts["leftOut"]]
    if left_out and len(left_out) <= _LISTED_LEFT_OUT:
        lines += _id_lines(f"Left out ({len(left_out)})", left_out)
    elif left_out:
        lines.append(f"Left out ({len(left_out)}): listed in the JSON report's completeness.leftOut")
    for label, value in model.interruption_facts(result):
        lines.append(f"  {label.lower() + ':':<16} {_line(value)}")
    return lines


def _verdict_line(result: Mapping[str, Any]) -> str:
    verdict = str(result.get("verdict", ""))
    line = f"verdict: {_line(verdict.upper(), 40)}"
    if verdict == "partial":
        return f"{line} ({model.run_extent(result)}; not a certification)"
    interruption = model.interruption_of(result)
    if verdict == "interrupted" and interruption is not None:
        where = f" during {_line(str(interruption['check']))}" if interruption.get("check") else ""
        return (
            f"{line} (by {_line(str(interruption.get('cause')), 64)}{where}; {model.run_extent(result)}; "
            f"cleanup {_line(str(interruption.get('cleanup')), 20)})"
        )
    return line
