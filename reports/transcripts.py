"""Evidence as the HTML report shows it: capped, made visible, and budgeted.

The HTML report must stay readable and under 5 MB whatever the target sent
back. Three limits do that, all reported to the reader where they cut:

* each body is capped (:data:`BODY_CAP_BYTES`) with a note giving its full size;
* a check with very many exchanges (a rate-limit burst) shows its first and
  last ones (:data:`HEAD_EXCHANGES`, :data:`TAIL_EXCHANGES`);
* a report-wide :class:`Budget` for transcript bytes is spent on the checks
  that matter most first (failed, then error, warning, ... passed); once it is
  spent, exchanges are listed by their request line and status only.

conformance.json keeps every exchange in full; the notes point there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from .curl import INVISIBLE, Placeholders, curl_command, variables_note
from .shortening import cut
from .vocabulary import level_rank, status_rank

BODY_CAP_BYTES = 8 * 1024
HEADER_VALUE_CAP = 1024
MAX_HEADERS = 64
HEAD_EXCHANGES = 30
TAIL_EXCHANGES = 10
#: Transcript bytes for a whole report; the rest of the page is far smaller.
DEFAULT_BUDGET_BYTES = 3 * 1024 * 1024


def visible(text: str) -> str:
    """``text`` with control, bidi-override and lone-surrogate characters spelled out (``\\x1b``, ``\\u202e``)."""

    def spell(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    # CRLF line ends are ordinary in HTTP; only a lone CR is worth spelling out.
    return INVISIBLE.sub(spell, text.replace("\r\n", "\n"))


def human_bytes(size: int) -> str:
    """``8192`` -> ``"8 KiB"``; for notes about what was cut."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def clip(text: str | None, limit: int) -> tuple[str, str | None]:
    """``text`` cut to ``limit`` UTF-8 bytes, and a note when something was cut.

    The cut is the one rule of :mod:`.shortening`: a secret shape running into
    the cut edge (a JWT, an API key, an otpauth URI) is replaced, not kept in part.
    """
    if not text:
        return "", None
    kept, was_cut = cut(text, limit, in_bytes=True)
    if not was_cut:
        return text, None
    size = len(text.encode("utf-8", errors="replace"))
    return kept, f"truncated: showing the first {human_bytes(limit)} of {human_bytes(size)}"


def _pretty(body: str) -> str:
    """Indent a JSON body for reading; anything else is returned as it came."""
    stripped = body.strip()
    if not stripped or stripped[0] not in "{[":
        return body
    try:
        return json.dumps(json.loads(stripped), indent=2, ensure_ascii=False)
    except ValueError:
        return body


@dataclass
class Budget:
    """Bytes of transcript the report may still spend."""

    remaining: int

    def take(self, cost: int) -> bool:
        """Spend ``cost`` if there is that much left; say whether it was spent."""
        if cost > self.remaining:
            return False
        self.remaining -= cost
        return True


@dataclass
class Body:
    """A body ready to show: visible text, plus a note when it was cut."""

    text: str
    note: str | None = None


@dataclass
class ExchangeView:
    """One exchange as the template renders it."""

    method: str
    url: str
    status: str
    status_line: str
    duration: str
    started_at: str
    note: str
    error: str
    harness_truncated: bool
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: Body | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: Body | None = None
    curl: str = ""
    #: True when the report-wide budget ran out: only the request line and status are shown.
    omitted: bool = False

    @property
    def status_class(self) -> str:
        """CSS class for the status code: 2xx ok, 4xx client, 5xx server, none."""
        if not self.status.isdigit():
            return "http-none"
        return f"http-{self.status[0]}xx"


@dataclass
class CheckEvidence:
    """A check's exchanges as the template renders them."""

    exchanges: list[ExchangeView] = field(default_factory=list)
    #: Exchanges left out of the middle of a long sequence.
    elided: int = 0
    #: Index in ``exchanges`` before which the elision note goes.
    elided_at: int = 0
    variables: str = ""
    total: int = 0
    #: Exchanges not listed at all (only in the tightest size tier).
    hidden: int = 0


def _headers(raw: Any) -> list[tuple[str, str]]:
    if not isinstance(raw, Mapping):
        return []
    items: list[tuple[str, str]] = []
    for name, value in raw.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            text, note = clip("" if v is None else str(v), HEADER_VALUE_CAP)
            items.append((visible(str(name)), visible(text) + (f" … [{note}]" if note else "")))
    if len(items) > MAX_HEADERS:
        dropped = len(items) - MAX_HEADERS
        items = items[:MAX_HEADERS] + [("…", f"{dropped} more headers not shown; see conformance.json")]
    return items


def _body(raw: Any) -> Body | None:
    if raw is None or raw == "":
        return None
    text, note = clip(_pretty(str(raw)), BODY_CAP_BYTES)
    if note:
        note += "; the full body is in conformance.json"
    return Body(visible(text), note)


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return ""
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def exchange_view(exchange: Mapping[str, Any], placeholders: Placeholders, budget: Budget) -> ExchangeView:
    """Build one exchange's view, spending ``budget`` on its transcript if there is enough."""
    status = exchange.get("status")
    try:
        phrase = f" {HTTPStatus(status).phrase}" if isinstance(status, int) else ""
    except ValueError:
        phrase = ""
    view = ExchangeView(
        method=visible(str(exchange.get("method") or "?")),
        url=visible(clip(str(exchange.get("url") or ""), HEADER_VALUE_CAP * 2)[0]),
        status=str(status) if status is not None else "no response",
        status_line=f"HTTP {status}{phrase}" if status is not None else "no response",
        duration=_duration(exchange.get("durationSeconds")),
        started_at=visible(str(exchange.get("startedAt") or "")),
        note=visible(clip(str(exchange.get("note") or ""), HEADER_VALUE_CAP)[0]),
        error=visible(clip(str(exchange.get("error") or ""), HEADER_VALUE_CAP)[0]),
        harness_truncated=bool(exchange.get("truncated")),
    )
    request_headers = _headers(exchange.get("requestHeaders"))
    response_headers = _headers(exchange.get("responseHeaders"))
    request_body = _body(exchange.get("requestBody"))
    response_body = _body(exchange.get("responseBody"))
    # The curl command repeats the request body, capped like the transcript so a
    # hostile request cannot smuggle megabytes in through it.
    curl_source = dict(exchange)
    raw_request = exchange.get("requestBody")
    if raw_request:
        capped, note = clip(str(raw_request), BODY_CAP_BYTES)
        curl_source["requestBody"] = capped
        curl_source["truncated"] = bool(exchange.get("truncated")) or note is not None
    curl = curl_command(curl_source, placeholders)

    cost = len(curl.encode("utf-8", errors="replace"))
    for name, value in request_headers + response_headers:
        cost += len(name) + len(value) + 4
    for body in (request_body, response_body):
        if body is not None:
            cost += len(body.text.encode("utf-8", errors="replace"))
    if not budget.take(cost):
        view.omitted = True
        return view
    view.request_headers = request_headers
    view.response_headers = response_headers
    view.request_body = request_body
    view.response_body = response_body
    view.curl = visible(curl)
    return view


def check_evidence(
    evidence: Iterable[Mapping[str, Any]], budget: Budget, *, list_omitted: bool = True
) -> CheckEvidence:
    """Views of one check's exchanges: the first and last of a long run, within ``budget``.

    With ``list_omitted`` false (the tightest size tier), exchanges whose
    transcript does not fit are not listed at all, only counted.
    """
    exchanges = list(evidence)
    result = CheckEvidence(total=len(exchanges))
    if len(exchanges) > HEAD_EXCHANGES + TAIL_EXCHANGES:
        result.elided = len(exchanges) - HEAD_EXCHANGES - TAIL_EXCHANGES
        result.elided_at = HEAD_EXCHANGES
        exchanges = exchanges[:HEAD_EXCHANGES] + exchanges[-TAIL_EXCHANGES:]
    placeholders = Placeholders()
    views = [exchange_view(ex, placeholders, budget) for ex in exchanges]
    if not list_omitted:
        views = [v for v in views if not v.omitted]
        result.elided = 0
    result.exchanges = views
    result.hidden = result.total - len(views) - result.elided
    result.variables = variables_note(placeholders)
    return result


def build_all(
    requirements: list[Mapping[str, Any]], budget_bytes: int, *, list_omitted: bool = True
) -> dict[tuple[int, int], CheckEvidence]:
    """Evidence views for every check, keyed by (requirement index, check index).

    The budget is spent in order of importance, not page order: a failed MUST
    check's transcript is kept before a passed check's, wherever they appear.
    """
    order: list[tuple[tuple[int, int, int, int], int, int]] = []
    for r, req in enumerate(requirements):
        for c, check in enumerate(req.get("checks") or []):
            key = (status_rank(str(check.get("outcome"))), level_rank(str(req.get("level"))), r, c)
            order.append((key, r, c))
    order.sort()
    budget = Budget(budget_bytes)
    views: dict[tuple[int, int], CheckEvidence] = {}
    for _, r, c in order:
        check = requirements[r]["checks"][c]
        views[(r, c)] = check_evidence(check.get("evidence") or [], budget, list_omitted=list_omitted)
    return views
