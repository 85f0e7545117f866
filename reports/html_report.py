"""conformance.html: the one-file report a vendor hands to a customer.

The page is rendered by jinja2 with autoescape on, from a view model built
here; nothing target-derived is ever marked safe. The only ``Markup`` values
are our own static CSS and JavaScript, and the redaction highlighting, which
escapes every piece of text before wrapping the markers in a ``<span>``.

The page carries a Content-Security-Policy that allows no network access at all
and only the exact inline style and script we ship (by hash): were escaping ever
to fail, an injected ``<script>`` still would not run, and the browser test
would see the violation in the console.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup, escape

from . import model, vocabulary
from .curl import MARKER
from .transcripts import DEFAULT_BUDGET_BYTES, CheckEvidence, build_all, clip, visible

#: The report must stay under 5 MB; above this it is rendered again with tighter limits.
MAX_HTML_BYTES = 4_500_000


@dataclass(frozen=True)
class Limits:
    """How much of the run's text one rendering shows."""

    transcript_bytes: int
    message_bytes: int
    text_bytes: int
    #: List exchanges whose transcript did not fit (request line and status only).
    list_omitted: bool = True


#: Tried in order until the page fits under MAX_HTML_BYTES. The first one is
#: what any real run gets: a real catalogue with capped bodies is far smaller.
TIERS: tuple[Limits, ...] = (
    Limits(DEFAULT_BUDGET_BYTES, 4 * 1024, 2 * 1024),
    Limits(768 * 1024, 4 * 1024, 2 * 1024),
    Limits(128 * 1024, 1024, 1024),
    Limits(0, 512, 512, list_omitted=False),
    Limits(0, 160, 160, list_omitted=False),
)

VERDICT_LABELS = {
    "conformant": "CONFORMANT",
    "non-conformant": "NON-CONFORMANT",
    "incomplete": "INCOMPLETE",
    "partial": "PARTIAL",
    "interrupted": "INTERRUPTED",
}


def _static(name: str) -> str:
    return (resources.files("bsk_conformance.reports") / "templates" / name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def highlight_redactions(text: str) -> Markup:
    """Escape ``text`` and wrap each «kind:fingerprint» marker in a span the CSS can mark.

    One pass over the text: most values carry no marker at all, and are only
    escaped; the pieces are joined as plain strings, each already escaped, so
    the page costs time in proportion to its size (not a ``Markup`` per piece).
    """
    if "«" not in text:
        return escape(text)
    out: list[str] = []
    pos = 0
    for match in MARKER.finditer(text):
        out.append(escape(text[pos : match.start()]))
        out.append(f'<span class="redacted" title="redacted by the harness: {escape(match.group(1))}">')
        out.append(escape(match.group()))
        out.append("</span>")
        pos = match.end()
    out.append(escape(text[pos:]))
    return Markup("".join(out))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bsk_conformance.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["redactions"] = highlight_redactions
    return env


def _text(value: Any, limit: int = 2048) -> str:
    """Target- or harness-supplied text, capped and with invisible characters spelled out."""
    if value is None:
        return ""
    text, note = clip(str(value), limit)
    return visible(text) + (f"\n[{note}; see conformance.json]" if note else "")


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s"


def anchor(req_id: str) -> str:
    """An HTML id for a requirement: its ID with anything unusual replaced."""
    return "req-" + "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in req_id)


@dataclass
class CheckView:
    nodeid: str
    outcome: str
    outcome_label: str
    message: str
    duration: str
    evidence: CheckEvidence


@dataclass
class RequirementView:
    id: str
    anchor: str
    level: str
    section: str
    section_title: str
    title: str
    status: str
    status_label: str
    reason: str
    sentence: str
    hints: list[str]
    checks: list[CheckView] = field(default_factory=list)

    @property
    def open(self) -> bool:
        """Expanded by default: what a reader came to see."""
        return self.status in ("failed", "error", "warning")


@dataclass
class Segment:
    status: str
    label: str
    count: int
    x: float
    width: float


def _segments(counts: Mapping[str, int]) -> list[Segment]:
    """Stacked-bar segments (percent widths) for status counts, in display order."""
    total = sum(counts.values())
    segments: list[Segment] = []
    x = 0.0
    for status in reversed(vocabulary.STATUSES):  # passed on the left, failed on the right
        n = counts.get(status, 0)
        if n and total:
            width = 100.0 * n / total
            segments.append(Segment(status, vocabulary.STATUS_LABELS[status], n, round(x, 3), round(width, 3)))
            x += width
    return segments


def build_context(result: Mapping[str, Any], limits: Limits = TIERS[0]) -> dict[str, Any]:
    """Everything the template shows, already capped and ordered."""
    requirements: list[Mapping[str, Any]] = list(result.get("requirements") or [])
    evidence = build_all(requirements, limits.transcript_bytes, list_omitted=limits.list_omitted)
    text_cap = limits.text_bytes

    views: list[RequirementView] = []
    for r, req in enumerate(requirements):
        section = str(req.get("section", ""))
        view = RequirementView(
            id=_text(req.get("id"), 200),
            anchor=anchor(str(req.get("id", r))),
            level=str(req.get("level", "")),
            section=_text(section, 40),
            section_title=model.SECTION_TITLES.get(vocabulary.top_section(section), ""),
            title=_text(req.get("title"), min(500, text_cap)),
            status=str(req.get("status", "")),
            status_label=vocabulary.STATUS_LABELS.get(str(req.get("status")), _text(req.get("status"), 40)),
            reason=_text(req.get("reason"), text_cap),
            sentence=_text(req.get("sentence"), text_cap),
            hints=model.verify_hints(req) if req.get("status") == "not_verified" else [],
        )
        for c, check in enumerate(req.get("checks") or []):
            outcome = str(check.get("outcome", ""))
            view.checks.append(
                CheckView(
                    nodeid=_text(check.get("nodeid"), 1000),
                    outcome=outcome,
                    outcome_label=vocabulary.STATUS_LABELS.get(outcome, _text(outcome, 40)),
                    message=_text(check.get("message"), limits.message_bytes),
                    duration=_duration(check.get("durationSeconds")),
                    evidence=evidence[(r, c)],
                )
            )
        views.append(view)
    views.sort(key=lambda v: model.requirement_sort_key(v.__dict__))

    status_counts = Counter(v.status for v in views)
    summary = result.get("summary") or {}
    cards = [
        (status, vocabulary.STATUS_LABELS[status], summary.get(vocabulary.SUMMARY_KEYS[status], status_counts[status]))
        for status in vocabulary.STATUSES
    ]

    by_level = []
    for level in vocabulary.LEVELS:
        counts = Counter(v.status for v in views if v.level == level)
        if counts:
            by_level.append({"level": level, "total": sum(counts.values()), "counts": counts})

    sections: dict[str, Counter[str]] = {}
    for v in views:
        sections.setdefault(vocabulary.top_section(v.section), Counter())[v.status] += 1
    section_rows = [
        {
            "section": s,
            "title": model.SECTION_TITLES.get(s, ""),
            "total": sum(counts.values()),
            "counts": counts,
            "segments": _segments(counts),
        }
        for s, counts in sorted(sections.items(), key=lambda item: vocabulary.section_key(item[0]))
    ]

    verdict = str(result.get("verdict", ""))
    failed_must = [v for v in views if v.status == "failed" and v.level == "MUST"]
    open_must = [v for v in views if v.status in ("error", "not_verified") and v.level == "MUST"]
    warnings = [v for v in views if v.status == "warning"]
    if verdict == "conformant":
        blurb = "Every MUST requirement of the contract was verified and passed."
        if warnings:
            were = "requirement was" if len(warnings) == 1 else "requirements were"
            blurb += f" {len(warnings)} SHOULD/MAY {were} not met (warnings, which never fail certification)."
    elif verdict == "non-conformant":
        noun = "requirement" if len(failed_must) == 1 else "requirements"
        blurb = f"{len(failed_must)} MUST {noun} of the contract failed."
    elif verdict in vocabulary.NOT_WHOLE_VERDICTS:
        blurb = _not_whole_blurb(result, len(failed_must))
    else:
        blurb = (
            f"No MUST requirement failed, but {len(open_must)} could not be verified or ended in an error, "
            "so conformance is not established."
        )

    clock = str(result.get("clock", ""))
    meta: list[tuple[str, str, bool]] = [
        ("Target", _text(result.get("target"), 1000), True),
        *((label, _text(value, 300), True) for label, value in model.fingerprint_items(result)),
        ("Environment", _text(result.get("environment"), 100), False),
        ("Clock mode", model.CLOCK_LABELS.get(clock, _text(clock, 100)), False),
        ("Contract version", _text(result.get("contractVersion"), 100), False),
        ("Catalogue digest", _text(result.get("catalogueDigest") or "not recorded", 200), True),
        ("Harness version", _text(result.get("harnessVersion"), 100), False),
        ("Git commit", _text(result.get("gitCommit") or "not known", 100), True),
        ("Started", _text(result.get("startedAt"), 100), False),
        ("Duration", _duration(result.get("durationSeconds")), False),
        ("Profile hash", _text(result.get("profileDigest") or "no profile (bundled server)", 200), True),
    ]

    css = _static("report.css")
    js = _static("report.js")
    return {
        "verdict": verdict,
        "verdict_label": VERDICT_LABELS.get(verdict, _text(verdict, 40).upper()),
        "blurb": blurb,
        "not_whole": _not_whole_context(result) if verdict in vocabulary.NOT_WHOLE_VERDICTS else None,
        "target": _text(result.get("target"), 200),
        "target_fingerprint": [(label, _text(value, 200)) for label, value in model.fingerprint_items(result)],
        "meta": meta,
        "cards": cards,
        "total": len(views),
        "statuses": [(s, vocabulary.STATUS_LABELS[s]) for s in vocabulary.STATUSES],
        "status_counts": status_counts,
        "by_level": by_level,
        "section_rows": section_rows,
        "failed_must": failed_must,
        "open_must": open_must,
        "requirements": views,
        "not_verified": [v for v in views if v.status == "not_verified"],
        "shortened": limits != TIERS[0],
        "preflight_notes": [_text(note, 500) for note in result.get("preflightNotes") or []],
        "harness_version": _text(result.get("harnessVersion"), 100),
        # Our own static files, not target data: safe to insert unescaped, and
        # hashed into the CSP so that they are the only style and script allowed.
        "css": Markup(css),
        "js": Markup(js),
        "csp": (
            "default-src 'none'; "
            f"style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
            "img-src data:; base-uri 'none'; form-action 'none'"
        ),
    }


def _not_whole_blurb(result: Mapping[str, Any], failed_must: int) -> str:
    """The banner's sentence for a partial or interrupted run: how much ran, and
    what it showed (a MUST broken in what ran is said, never hidden)."""
    counts = model.completeness(result)
    how = "The run was interrupted" if result.get("verdict") == "interrupted" else "Requirements were left out"
    shown = {
        "conformant": "every MUST requirement passed",
        "non-conformant": f"{failed_must} MUST requirement{'s' if failed_must != 1 else ''} failed",
        "incomplete": "no MUST requirement failed, but some were not verified or ended in an error",
    }.get(str(counts["verdictOfRun"]), f"what ran is {counts['verdictOfRun']}")
    return (
        f"{how}: {model.run_extent(result)}, so this is not a certification. "
        f"Of what ran, {shown}."
    )


def _not_whole_context(result: Mapping[str, Any]) -> dict[str, Any]:
    """The "Not a whole run" section: counts, the IDs left out, how an interruption ended.
    The interruption's message and check come from the run (target-derived text
    may be in them): capped here, escaped by the template."""
    counts = model.completeness(result)
    return {
        "extent": model.run_extent(result),
        "verdict_of_run": VERDICT_LABELS.get(str(counts["verdictOfRun"]), _text(counts["verdictOfRun"], 40)),
        "left_out": [_text(i, 100) for i in counts["leftOut"]],
        "interruption": [(label, _text(value, 1000)) for label, value in model.interruption_facts(result)],
        "cleanup": str((model.interruption_of(result) or {}).get("cleanup", "")),
    }


def render_html(result: Mapping[str, Any], tiers: tuple[Limits, ...] = TIERS) -> bytes:
    """conformance.html's bytes, under :data:`MAX_HTML_BYTES` whatever the evidence holds.

    The first tier's transcript budget keeps a real run far below the limit;
    an unusually large one is rendered again with the next, tighter tier until
    it fits, and the page says that it was shortened.
    """
    template = _environment().get_template("conformance.html.j2")
    html = b""
    for limits in tiers:
        html = template.render(build_context(result, limits)).encode("utf-8", errors="replace")
        if len(html) <= MAX_HTML_BYTES:
            break
    return html
