"""Contract §2 — Wire format: timestamps.

   "JSON bodies, camelCase fields. Timestamps are RFC 3339 UTC strings."

Every timestamp the contract names (a key's createdAt and expiresAt, a
project's createdAt) is read in each view of its object: the creation
answer, the object by id, its entry in the list.
"""

from __future__ import annotations

from bsk_conformance.harness.api import (
    expect,
    expect_json_object,
    expect_status,
    format_rfc3339,
    is_rfc3339_utc,
    parse_rfc3339,
    requirement,
)

from ._wire import listed_entry


def _expect_timestamp(body: dict, name: str, context: str, *, nullable: bool = False) -> None:
    value = body.get(name)
    if nullable and value is None:
        return
    expect(is_rfc3339_utc(value), f'"{name}" an RFC 3339 UTC date-time (…Z or …+00:00)', repr(value), context)


def _get_object(user, path: str) -> dict:
    response = user.get(path)
    expect_status(response, 200, context=f"GET {path}")
    return expect_json_object(response, f"GET {path}")


def _expect_key_timestamps(reader, resources) -> None:
    """The expiry sent is a day after the target's own createdAt of a first key:
    the target's clock, not the harness's, decides what is in the future."""
    first = resources.create_key(reader, scopes=[])
    _expect_timestamp(first, "createdAt", "POST /api-keys answer (no expiresAt asked)")
    _expect_timestamp(first, "expiresAt", "POST /api-keys answer (no expiresAt asked)", nullable=True)
    expires = int(parse_rfc3339(first["createdAt"])) + 86_400
    sent = format_rfc3339(expires)
    created = resources.create_key(reader, scopes=[], expires_at=sent)
    views = {
        "POST /api-keys answer": created,
        "GET /api-keys/{id} answer": _get_object(reader, f"/api-keys/{created['id']}"),
        "GET /api-keys entry": listed_entry(reader.get("/api-keys"), created["id"], "GET /api-keys"),
    }
    for context, body in views.items():
        _expect_timestamp(body, "createdAt", context)
        _expect_timestamp(body, "expiresAt", context)
        expect(
            abs(parse_rfc3339(body["expiresAt"]) - expires) < 1,
            f"expiresAt the instant sent ({sent})",
            repr(body["expiresAt"]),
            context,
        )


def _expect_project_timestamps(reader, resources) -> None:
    created = resources.create_project(reader)
    views = {
        "POST /projects answer": created,
        "GET /projects/{id} answer": _get_object(reader, f"/projects/{created.get('id')}"),
        "GET /projects entry": listed_entry(reader.get("/projects"), created.get("id"), "GET /projects"),
    }
    for context, body in views.items():
        _expect_timestamp(body, "createdAt", context)


@requirement("BSK-WIRE-010")
def test_key_and_project_timestamps_are_rfc3339_utc(reader, resources):
    _expect_key_timestamps(reader, resources)
    _expect_project_timestamps(reader, resources)
