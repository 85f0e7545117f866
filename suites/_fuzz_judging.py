"""Judging one fuzzed exchange with schemathesis's own checks, within the
latitude contract §8 gives that a document's statuses do not show.

`case.validate_response` takes the httpx response as the harness recorded it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from ._fuzz_document import operation_key

CHECKS: dict[str, Callable] = {
    "not_a_server_error": not_a_server_error,
    "status_code_conformance": status_code_conformance,
    "response_schema_conformance": response_schema_conformance,
}
_MESSAGE_LINES = 6


@dataclass
class Judged:
    """One generated request, its answer, and what each check made of it."""

    label: str  # "POST /auth/login"
    how: str  # "valid input, no credentials"
    status: int
    summary: str  # describe(response), already redacted when reported
    failures: dict[str, list[str]] = field(default_factory=dict)

    def line(self, check: str) -> str:
        reasons = "; ".join(self.failures[check])
        return f"{self.label} ({self.how}): {self.summary}: {reasons}"


def judge(case, response: httpx.Response, *, recorder=None) -> dict[str, list[str]]:
    """Each of CHECKS on one answer: the failures' titles and first lines, by check."""
    request = response.request
    found: dict[str, list[str]] = {}
    for name, check in CHECKS.items():
        if name == "status_code_conformance" and _status_latitude(request.method, case.path, response.status_code):
            continue
        try:
            case.validate_response(response, checks=[check], recorder=recorder)
        except FailureGroup as group:
            found[name] = [_reason(failure) for failure in group.exceptions]
    return found


def _status_latitude(method: str, path: str, status: int) -> bool:
    """Statuses §8 allows whatever a document lists: oversized bodies may be
    413, and 2FA management errors may be any 4xx."""
    if status == 413:
        return True
    _, normalized = operation_key(method, path)
    return normalized.startswith("/auth/2fa/") and 400 <= status < 500


def _reason(failure: Exception) -> str:
    title = getattr(failure, "title", type(failure).__name__)
    message = str(getattr(failure, "message", "") or "").strip()
    lines = [line for line in message.splitlines() if line.strip()][:_MESSAGE_LINES]
    return title + (": " + " ".join(line.strip() for line in lines) if lines else "")
