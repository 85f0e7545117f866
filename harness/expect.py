"""Small claims a check makes about a response, failing with a sentence.

Each raises `CheckFailed` whose message says what the contract expects and
what came back, e.g. ``expected HTTP 401, observed HTTP 200``. Messages pass
the run's redactor before they are kept, so quoting a body is safe.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from bsk_conformance.harness.quoting import describe
from bsk_conformance.harness.verdicts import CheckFailed

# describe() lives in quoting.py (verdicts.py needs it too, and expect imports verdicts);
# it stays importable from here


def fail(expected: str, observed: str, context: str | None = None) -> None:
    prefix = f"{context}: " if context else ""
    raise CheckFailed(f"{prefix}expected {expected}; observed {observed}")


def expect(condition: bool, expected: str, observed: Any, context: str | None = None) -> None:
    if not condition:
        fail(expected, str(observed), context)


def expect_status(response: httpx.Response, *statuses: int, context: str | None = None) -> None:
    if response.status_code not in statuses:
        wanted = " or ".join(f"HTTP {s}" for s in statuses)
        fail(wanted, describe(response), context or _request_line(response))


def json_body(response: httpx.Response, context: str | None = None) -> Any:
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        fail("a JSON body", describe(response), context or _request_line(response))


def expect_json_object(response: httpx.Response, context: str | None = None) -> dict:
    body = json_body(response, context)
    if not isinstance(body, dict):
        fail("a JSON object", describe(response), context or _request_line(response))
    return body


def expect_error(response: httpx.Response, status: int, error: str | None = None, context: str | None = None) -> dict:
    """The contract's error answer: the status, and a body {error, message}."""
    context = context or _request_line(response)
    expect_status(response, status, context=context)
    body = expect_json_object(response, context)
    if error is not None and body.get("error") != error:
        fail(f'error "{error}"', describe(response), context)
    if not isinstance(body.get("error"), str) or not isinstance(body.get("message"), str):
        fail('an error body with string fields "error" and "message" (contract §2)', describe(response), context)
    return body


def expect_fields(body: dict, fields: dict[str, type | tuple[type, ...]], context: str) -> None:
    for name, kind in fields.items():
        if name not in body:
            fail(f'field "{name}"', f"fields {sorted(body)}", context)
        if not isinstance(body[name], kind) or (kind is int and isinstance(body[name], bool)):
            fail(
                f'"{name}" of type {getattr(kind, "__name__", kind)}',
                f"{type(body[name]).__name__} {body[name]!r}",
                context,
            )


def header(response: httpx.Response, name: str) -> str | None:
    return response.headers.get(name)


def _request_line(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url.path}"
