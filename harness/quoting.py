"""How a check quotes the target's answer in a sentence.

Its own module because both ends of a check use it: the `expect*` claims
(harness/expect.py) and the typed precondition failure (harness/verdicts.py),
which expect.py itself imports.
"""

from __future__ import annotations

import httpx

_BODY_QUOTE = 300


def describe(response: httpx.Response) -> str:
    """`HTTP 401 {"error": "invalid_token", ...}`, shortened."""
    body = response.text.strip().replace("\n", " ")
    if len(body) > _BODY_QUOTE:
        body = body[:_BODY_QUOTE] + "…"
    shown = f"HTTP {response.status_code}" + (f" {body}" if body else "")
    if 300 <= response.status_code < 400:
        # a redirect is never followed; where it pointed is part of the finding
        location = getattr(response, "shown_location", None) or response.headers.get("location")
        shown += f" (redirect to {location}, not followed)" if location else " (redirect without a Location)"
    return shown
