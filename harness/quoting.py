"""How a check quotes the target's answer in a sentence.

Its own module because both ends of a check use it: the `expect*` claims
(harness/expect.py) and the typed precondition failure (harness/verdicts.py),
which expect.py itself imports.
"""

from __future__ import annotations

import httpx

from bsk_conformance.reports.shortening import KnownSecrets, shorten

_BODY_QUOTE = 300


def describe(response: httpx.Response) -> str:
    """`HTTP 401 {"error": "invalid_token", ...}`, redacted, then shortened.

    An answer the recording layer handed on carries the run's redactor
    (harness/evidence.py `TargetResponse`): its secrets are replaced before the
    cut, and one cut at the edge is replaced too. Any other response is cut by
    the shape rules alone; the check record's redaction replaces whole secrets."""
    body = response.text.strip().replace("\n", " ")
    secrets: KnownSecrets | None = getattr(response, "redactor", None)
    body, was_cut = shorten(body, _BODY_QUOTE, secrets)
    if was_cut:
        body += "…"
    shown = f"HTTP {response.status_code}" + (f" {body}" if body else "")
    if 300 <= response.status_code < 400:
        # a redirect is never followed; where it pointed is part of the finding
        location = getattr(response, "shown_location", None) or response.headers.get("location")
        shown += f" (redirect to {location}, not followed)" if location else " (redirect without a Location)"
    return shown
