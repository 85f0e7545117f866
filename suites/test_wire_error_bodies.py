"""Contract §2 — Wire format: the error body.

   "Error body: {"error": "<code>", "message": "<text for humans>"}; extra fields allowed."
   §8: "Every error body has error and message, whatever the status."

Each case provokes one kind of refusal; where §8 leaves the status open (an
oversized body: 400 or 413) the status is BSK-WIRE-009's, and here only the
body's shape is judged.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bsk_conformance.harness.api import expect, expect_json_object, not_verified, requirement

from ._cases import cases
from ._wire import JSON, ONE_MIB, tampered, unknown_email, unknown_key


@dataclass(frozen=True)
class Refusal:
    context: str  # what was sent, as the evidence and a failure name it
    provoke: Callable[..., httpx.Response]  # (target, user, resources) -> the refusal


def _malformed_json(target, user, resources):
    return target.post("/auth/login", content=b'{"email": ', headers=JSON)


def _oversized(target, user, resources):
    body = {"email": unknown_email(), "password": "p" * ONE_MIB}
    return target.post("/auth/login", content=json.dumps(body).encode(), headers=JSON)


def _no_credentials(target, user, resources):
    return target.get("/me")


def _rejected_token(target, user, resources):
    return target.get("/me", bearer=tampered(user.access_token))


def _rejected_key(target, user, resources):
    return target.get("/me", api_key=unknown_key(target))


def _bad_login(target, user, resources):
    return target.post("/auth/login", json={"email": unknown_email(), "password": "not the password"})


def _bad_refresh(target, user, resources):
    return target.refresh("rt_" + secrets.token_urlsafe(32))


def _missing_scope(target, user, resources):
    key = resources.create_key(user, scopes=[])
    return target.get("/projects", api_key=key["key"])


def _key_on_user_endpoint(target, user, resources):
    key = resources.create_key(user, scopes=["organization:read", "projects:read", "projects:write"])
    return target.get("/api-keys", api_key=key["key"])


def _unknown_project(target, user, resources):
    return user.get(f"/projects/prj_{secrets.token_hex(16)}")


def _unknown_key_id(target, user, resources):
    return user.get(f"/api-keys/key_{secrets.token_hex(16)}")


def _rate_limited(target, user, resources):
    key = resources.create_key(user, scopes=[], rate_limit=1)
    target.get("/me", api_key=key["key"])
    return target.get("/me", api_key=key["key"])


REFUSALS = {
    "400-413-oversized": Refusal("POST /auth/login with a 1 MiB body", _oversized),
    "400-malformed-json": Refusal("POST /auth/login with a truncated JSON body", _malformed_json),
    "401-invalid-credentials": Refusal("POST /auth/login with an unknown email", _bad_login),
    "401-invalid-refresh-token": Refusal("POST /auth/refresh with an unknown refresh token", _bad_refresh),
    "401-no-credentials": Refusal("GET /me without credentials", _no_credentials),
    "401-rejected-key": Refusal("GET /me with an unknown API key", _rejected_key),
    "401-rejected-token": Refusal("GET /me with an access token whose signature was altered", _rejected_token),
    "403-insufficient-scope": Refusal("GET /projects with a key without projects:read", _missing_scope),
    "403-key-on-user-endpoint": Refusal("GET /api-keys with an API key", _key_on_user_endpoint),
    "404-unknown-key": Refusal("GET /api-keys/{id} for an id that does not exist", _unknown_key_id),
    "404-unknown-project": Refusal("GET /projects/{id} for an id that does not exist", _unknown_project),
    "429-rate-limited": Refusal("a second GET /me within a minute with a key of rateLimit 1", _rate_limited),
}


@requirement("BSK-WIRE-001")
@cases("case", REFUSALS)
def test_every_error_body_has_string_error_and_message(case: Refusal, target, reader, resources):
    with target.evidence.note(case.context):
        response = case.provoke(target, reader, resources)
    if response.status_code < 400:
        not_verified(f"{case.context} was not refused (HTTP {response.status_code}): no error body to judge")
    body = expect_json_object(response, case.context)
    kinds = {name: type(body.get(name)).__name__ for name in ("error", "message")}
    expect(
        isinstance(body.get("error"), str) and isinstance(body.get("message"), str),
        'an error body with string fields "error" and "message" (contract §2, §8)',
        f"HTTP {response.status_code} with error: {kinds['error']}, message: {kinds['message']}",
        case.context,
    )
