"""conformance.har: every exchange of a run as HAR 1.2, for a browser's developer
tools, Insomnia or Postman.

Built from the schema-v1 result's evidence alone (the exchanges that
conformance.json holds, docs/architecture.md "Evidence format"), never from
the traffic itself: the harness redacted each exchange once, where it was
recorded, so the HAR shows exactly what the report shows, `«kind:fingerprint»`
where a secret was, and cannot be redacted differently from it.

Mapping (HAR 1.2, http://www.softwareishard.com/blog/har-12-spec/):

* one page per check that sent something: ``id`` is the check's name
  (``suites/<module>::<check>``), ``title`` leads with the requirement ID and level;
* one entry per exchange, ``pageref`` its check; an exchange that several checks
  judge (schema fuzzing) is an entry under each of them;
* ``time`` and ``timings.wait`` are the exchange's duration (the harness times the
  whole exchange, not its phases; the others are -1, "not known", or 0);
* ``httpVersion`` is HTTP/1.1, the one the harness speaks;
* ``headersSize`` is -1 and ``bodySize`` the Content-Length the exchange carried
  (-1 without one): the text held is redacted and capped, so its length is not the
  size on the wire; ``content.size`` is the length of the text held;
* a body the harness cut (16 KiB kept) says so in ``content.comment`` or
  ``postData.comment``; a transport error has status 0 and ``_error`` (as browsers
  write it), and the check's note is the entry's ``comment``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

HAR_VERSION = "1.2"
CREATOR = "bsk-conformance"
HTTP_VERSION = "HTTP/1.1"
#: What the harness keeps of a body (harness/evidence.py BODY_CAP); said in the comment of a cut body.
KEPT_BYTES = 16 * 1024
_NOT_KNOWN = -1
_CUT = f"cut by the harness: the evidence keeps the first {KEPT_BYTES // 1024} KiB of a body, redacted"


def render_har(result: Mapping[str, Any]) -> bytes:
    """The HAR 1.2 document of ``result``'s evidence, UTF-8 JSON.

    Compact: with an indent, ``json`` leaves its C encoder for the Python one,
    and a whole run's HAR (about 3 MB) then costs 0.2 s instead of 0.04 s."""
    return json.dumps(har_of(result), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def har_of(result: Mapping[str, Any]) -> dict[str, Any]:
    """The HAR 1.2 document of ``result``'s evidence, as a dict."""
    pages: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for requirement, check in _checks(result):
        exchanges = [e for e in check.get("evidence") or [] if isinstance(e, Mapping)]
        if not exchanges:
            continue  # a page with no entry shows nothing in any viewer
        name = str(check.get("nodeid"))
        check_entries = [_entry(exchange, name) for exchange in exchanges]
        pages.append(
            {
                "startedDateTime": min(entry["startedDateTime"] for entry in check_entries),
                "id": name,
                "title": _title(requirement, name),
                "pageTimings": {"onContentLoad": _NOT_KNOWN, "onLoad": _NOT_KNOWN},
                "comment": f"outcome: {check.get('outcome')}",
            }
        )
        entries += check_entries
    # oldest first, as the spec prefers; sorted() is stable, so one check's order stays
    pages.sort(key=lambda page: page["startedDateTime"])
    entries.sort(key=lambda entry: entry["startedDateTime"])
    return {
        "log": {
            "version": HAR_VERSION,
            "creator": {"name": CREATOR, "version": str(result.get("harnessVersion", ""))},
            "pages": pages,
            "entries": entries,
            "comment": (
                f"BSK conformance run of {result.get('target')}, verdict {result.get('verdict')}, "
                f"started {result.get('startedAt')}. Secrets appear as «kind:fingerprint», as in conformance.json."
            ),
        }
    }


def _checks(result: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    for requirement in result.get("requirements") or []:
        for check in requirement.get("checks") or []:
            yield requirement, check


def _title(requirement: Mapping[str, Any], name: str) -> str:
    return f"{requirement.get('id')} {requirement.get('level')}: {requirement.get('title')} ({name})"


def _entry(exchange: Mapping[str, Any], pageref: str) -> dict[str, Any]:
    milliseconds = round(float(exchange.get("durationSeconds") or 0.0) * 1000, 3)
    cut = _cut_sides(exchange)
    entry: dict[str, Any] = {
        "pageref": pageref,
        "startedDateTime": str(exchange.get("startedAt") or ""),
        "time": milliseconds,
        "request": _request(exchange, "request" in cut),
        "response": _response(exchange, "response" in cut),
        "cache": {},
        "timings": {
            "blocked": _NOT_KNOWN,
            "dns": _NOT_KNOWN,
            "connect": _NOT_KNOWN,
            "ssl": _NOT_KNOWN,
            "send": 0,
            "wait": milliseconds,
            "receive": 0,
        },
    }
    if exchange.get("note"):
        entry["comment"] = str(exchange["note"])
    return entry


def _request(exchange: Mapping[str, Any], cut: bool) -> dict[str, Any]:
    headers = _headers(exchange.get("requestHeaders"))
    body = str(exchange.get("requestBody") or "")
    url = str(exchange.get("url") or "")
    request: dict[str, Any] = {
        "method": str(exchange.get("method") or ""),
        "url": url,
        "httpVersion": HTTP_VERSION,
        "cookies": [],
        "headers": headers,
        "queryString": _query(url),
        "headersSize": _NOT_KNOWN,
        "bodySize": _content_length(headers) if body else 0,
    }
    if body:
        request["postData"] = {"mimeType": _header(headers, "content-type"), "text": body}
        if cut:
            request["postData"]["comment"] = _CUT
    return request


def _response(exchange: Mapping[str, Any], cut: bool) -> dict[str, Any]:
    headers = _headers(exchange.get("responseHeaders"))
    body = str(exchange.get("responseBody") or "")
    status = exchange.get("status")
    content: dict[str, Any] = {
        "size": len(body.encode("utf-8")),
        "mimeType": _header(headers, "content-type"),
        "text": body,
    }
    if cut:
        content["comment"] = _CUT
    response: dict[str, Any] = {
        "status": status if isinstance(status, int) else 0,
        "statusText": _status_text(status),
        "httpVersion": HTTP_VERSION,
        "cookies": [],
        "headers": headers,
        "content": content,
        "redirectURL": _header(headers, "location"),
        "headersSize": _NOT_KNOWN,
        "bodySize": _content_length(headers) if status is not None else 0,
    }
    if exchange.get("error"):
        response["_error"] = str(exchange["error"])  # no answer: what went wrong, as browsers write it
    return response


def _headers(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, Mapping):
        return []
    return [{"name": str(name), "value": str(text)} for name, text in value.items()]


def _header(headers: list[dict[str, str]], name: str) -> str:
    return next((h["value"] for h in headers if h["name"].lower() == name), "")


def _query(url: str) -> list[dict[str, str]]:
    try:
        query = urlsplit(url).query
    except ValueError:
        return []
    return [{"name": name, "value": value} for name, value in parse_qsl(query, keep_blank_values=True)]


def _content_length(headers: list[dict[str, str]]) -> int:
    value = _header(headers, "content-length").strip()
    return int(value) if value.isdigit() else _NOT_KNOWN


def _status_text(status: Any) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _cut_sides(exchange: Mapping[str, Any]) -> set[str]:
    """Which bodies the harness cut. The evidence says only that one was; a side
    whose Content-Length passes what is kept was, and without that to go by,
    both are marked."""
    if not exchange.get("truncated"):
        return set()
    sides = set()
    for side in ("request", "response"):
        declared = _content_length(_headers(exchange.get(f"{side}Headers")))
        if declared > KEPT_BYTES:
            sides.add(side)
    return sides or {"request", "response"}
