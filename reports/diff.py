"""Baseline diffs between two conformance.json files.

CI keeps the last release's conformance.json as a baseline and gates on "no
worse than that": :func:`compare` sorts every requirement ID into

* **regressions** (gate): the status got worse, ranked
  passed < warning < not_verified = skipped = error < failed; or a requirement
  that was passed is now missing (dropped from the catalogue, or deselected:
  either way it is no longer shown to hold);
* **improvements**: the status got better;
* **changed**: a different status of the same rank (not_verified -> error);
* **added**: new in NEW (not a regression: the baseline never checked it);
* **removed**: in OLD only, and not passed there (no longer checked, but it was
  not holding before either);
* **unchanged**: the same status in both, counted by status.

The verdict is compared too. A whole run (conformant, non-conformant or
incomplete) followed by one that is not whole (``partial`` or
``interrupted``) is a **regression of the verdict** and gates, even when no
requirement's status got worse (a run interrupted after its last check): the
baseline's verdict is no longer shown. Two runs that are both not whole are
compared by their requirements only.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from . import model, vocabulary

#: How bad a status is; a higher rank in NEW than in OLD is a regression.
RANK: dict[str, int] = {"passed": 0, "warning": 1, "not_verified": 2, "skipped": 2, "error": 2, "failed": 3}


@dataclass
class Change:
    """One requirement whose status differs between the two runs (None: absent)."""

    id: str
    level: str
    section: str
    title: str
    old: str | None
    new: str | None


@dataclass
class Diff:
    """The comparison of two schema-v1 results."""

    old_verdict: str
    new_verdict: str
    #: the verdicts in a few words: "partial (2/127)", "interrupted (SIGTERM)", else the verdict
    old_verdict_tag: str = ""
    new_verdict_tag: str = ""
    regressions: list[Change] = field(default_factory=list)
    improvements: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    added: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)
    unchanged: Counter[str] = field(default_factory=Counter)

    @property
    def verdict_regressed(self) -> bool:
        """A whole run followed by one that is not whole (partial or interrupted)."""
        return (
            self.old_verdict not in vocabulary.NOT_WHOLE_VERDICTS
            and self.new_verdict in vocabulary.NOT_WHOLE_VERDICTS
        )

    @property
    def has_regressions(self) -> bool:
        return bool(self.regressions) or self.verdict_regressed

    def to_json(self) -> dict[str, Any]:
        """A machine-readable form, for ``bsk-conformance diff --json``."""
        return {
            "verdict": {
                "old": self.old_verdict,
                "new": self.new_verdict,
                "oldDetail": self.old_verdict_tag or self.old_verdict,
                "newDetail": self.new_verdict_tag or self.new_verdict,
                "regression": self.verdict_regressed,
            },
            "regressions": [asdict(c) for c in self.regressions],
            "improvements": [asdict(c) for c in self.improvements],
            "changed": [asdict(c) for c in self.changed],
            "added": [asdict(c) for c in self.added],
            "removed": [asdict(c) for c in self.removed],
            "unchanged": {"total": sum(self.unchanged.values()), "byStatus": dict(sorted(self.unchanged.items()))},
            "regression": self.has_regressions,
        }


def _index(result: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(r["id"]): r for r in result.get("requirements") or []}


def _sort_key(change: Change) -> tuple[Any, ...]:
    return (vocabulary.level_rank(change.level), vocabulary.section_key(change.section), change.id)


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> Diff:
    """Compare two valid schema-v1 results, requirement by requirement."""
    diff = Diff(
        old_verdict=str(old.get("verdict")),
        new_verdict=str(new.get("verdict")),
        old_verdict_tag=model.one_line(model.verdict_tag(old), 100),
        new_verdict_tag=model.one_line(model.verdict_tag(new), 100),
    )
    before, after = _index(old), _index(new)
    for req_id in sorted(before.keys() | after.keys()):
        o, n = before.get(req_id), after.get(req_id)
        about = n or o
        assert about is not None
        change = Change(
            id=req_id,
            level=str(about.get("level")),
            section=str(about.get("section")),
            title=str(about.get("title")),
            old=str(o["status"]) if o else None,
            new=str(n["status"]) if n else None,
        )
        if change.old is None:
            diff.added.append(change)
        elif change.new is None:
            (diff.regressions if change.old == "passed" else diff.removed).append(change)
        elif change.old == change.new:
            diff.unchanged[change.new] += 1
        elif RANK.get(change.new, 3) > RANK.get(change.old, 3):
            diff.regressions.append(change)
        elif RANK.get(change.new, 3) < RANK.get(change.old, 3):
            diff.improvements.append(change)
        else:
            diff.changed.append(change)
    for group in (diff.regressions, diff.improvements, diff.changed, diff.added, diff.removed):
        group.sort(key=_sort_key)
    return diff


def _status(word: str | None) -> str:
    return "(absent)" if word is None else vocabulary.STATUS_LABELS.get(word, word)


def format_text(diff: Diff, old_name: str, new_name: str) -> list[str]:
    """The diff for people: one line per changed requirement, grouped, then counts."""
    lines = [f"bsk-conformance diff {old_name} -> {new_name}"]
    old_verdict, new_verdict = diff.old_verdict_tag or diff.old_verdict, diff.new_verdict_tag or diff.new_verdict
    if old_verdict != new_verdict:
        lines.append(f"verdict: {old_verdict} -> {new_verdict}")
    else:
        lines.append(f"verdict: {new_verdict} (unchanged)")
    if diff.verdict_regressed:
        lines.append(
            f"Verdict regression: the baseline was a whole run ({diff.old_verdict}); this run is {new_verdict}, "
            "so it no longer shows that verdict"
        )
    groups = [
        ("Regressions", diff.regressions),
        ("Improvements", diff.improvements),
        ("Changed (same rank)", diff.changed),
        ("Added", diff.added),
        ("Removed", diff.removed),
    ]
    for title, changes in groups:
        if not changes:
            continue
        lines.append(f"{title} ({len(changes)}):")
        for c in changes:
            lines.append(f"  {c.id:<14} {c.level:<6} §{c.section:<4} {_status(c.old)} -> {_status(c.new)}   {c.title}")
    unchanged = ", ".join(
        f"{n} {vocabulary.STATUS_LABELS.get(s, s)}"
        for s, n in sorted(diff.unchanged.items(), key=lambda i: vocabulary.status_rank(i[0]))
    )
    lines.append(f"Unchanged: {sum(diff.unchanged.values())}" + (f" ({unchanged})" if unchanged else ""))
    lines.append(
        f"{len(diff.regressions)} regression{'s' if len(diff.regressions) != 1 else ''}, "
        f"{len(diff.improvements)} improvement{'s' if len(diff.improvements) != 1 else ''}"
        + (", and the verdict regressed" if diff.verdict_regressed else "")
    )
    return lines


def format_json(diff: Diff, old_name: str, new_name: str) -> str:
    """The diff for machines (``--json``)."""
    return json.dumps({"old": old_name, "new": new_name, **diff.to_json()}, indent=2)
