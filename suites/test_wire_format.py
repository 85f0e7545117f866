"""Contract §2 — Wire format (with the precise readings of §8).

   "JSON bodies, camelCase fields. Timestamps are RFC 3339 UTC strings."
   "Error body: {"error": "<code>", "message": "<text for humans>"}; extra fields allowed."
   "401 responses to a bearer-protected request carry WWW-Authenticate: Bearer realm="bsk",
    with error="invalid_token" when a token was sent but rejected (RFC 6750 §3)."
   "Token responses carry Cache-Control: no-store (RFC 6749 §5.1)."
   "Malformed request bodies get 400 invalid_request, never 5xx."

Challenges are parsed as RFC 9110 §11.6.1 defines them: scheme and parameter
names in any case, values quoted or not, extra parameters (error_description,
scope, ...) and extra challenges allowed. Where §8 leaves the status open (an
oversized body: 400 or 413) only the status is checked; the error shape of
every answer is BSK-WIRE-001's. Malformed refresh bodies (400 or 401, §8) are
BSK-REF-008's, in test_refresh.py.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bsk_conformance.harness.expect import describe, expect, expect_error, expect_json_object, expect_status, fail
from bsk_conformance.harness.profile import Account
from bsk_conformance.harness.verdicts import not_verified

from ._wire import (
    JSON,
    ChallengeSyntaxError,
    SignedIn,
    bearer_challenge,
    cache_directives,
    is_rfc3339_utc,
    tampered,
    timestamp,
)

REALM = "bsk"
ONE_MIB = 1 << 20
UNKNOWN_EMAIL = "nobody-{}@bsk-conformance.invalid"
GARBAGE_TOKEN = "not-a-jwt-bsk-conformance"


@pytest.fixture(scope="module")
def signed_in(two_factor_registry, alice, clock):
    shared = SignedIn(two_factor_registry, alice, clock)
    yield shared
    shared.close()


@pytest.fixture
def reader(signed_in):
    """alice, logged in once for the checks of this module that only read."""
    return signed_in.session


def _unknown_email() -> str:
    return UNKNOWN_EMAIL.format(secrets.token_hex(4))


def _unknown_key(target) -> str:
    return target.profile.key_prefix + "Z" * 40


# -- every error body has error and message ---------------------------------------------------


def _malformed_json(target, user, resources):
    return target.post("/auth/login", content=b'{"email": ', headers=JSON)


def _oversized(target, user, resources):
    body = {"email": _unknown_email(), "password": "p" * ONE_MIB}
    return target.post("/auth/login", content=json.dumps(body).encode(), headers=JSON)


def _no_credentials(target, user, resources):
    return target.get("/me")


def _rejected_token(target, user, resources):
    return target.get("/me", bearer=tampered(user.access_token))


def _rejected_key(target, user, resources):
    return target.get("/me", api_key=_unknown_key(target))


def _bad_login(target, user, resources):
    return target.post("/auth/login", json={"email": _unknown_email(), "password": "not the password"})


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


ERROR_PROVOCATIONS: dict[str, tuple[str, Callable[..., httpx.Response]]] = {
    "400-malformed-json": ("POST /auth/login with a truncated JSON body", _malformed_json),
    "400-413-oversized": ("POST /auth/login with a 1 MiB body", _oversized),
    "401-no-credentials": ("GET /me without credentials", _no_credentials),
    "401-rejected-token": ("GET /me with an access token whose signature was altered", _rejected_token),
    "401-rejected-key": ("GET /me with an unknown API key", _rejected_key),
    "401-invalid-credentials": ("POST /auth/login with an unknown email", _bad_login),
    "401-invalid-refresh-token": ("POST /auth/refresh with an unknown refresh token", _bad_refresh),
    "403-insufficient-scope": ("GET /projects with a key without projects:read", _missing_scope),
    "403-key-on-user-endpoint": ("GET /api-keys with an API key", _key_on_user_endpoint),
    "404-unknown-project": ("GET /projects/{id} for an id that does not exist", _unknown_project),
    "404-unknown-key": ("GET /api-keys/{id} for an id that does not exist", _unknown_key_id),
    "429-rate-limited": ("a second GET /me within a minute with a key of rateLimit 1", _rate_limited),
}


@pytest.mark.requirement("BSK-WIRE-001")
@pytest.mark.parametrize("case", sorted(ERROR_PROVOCATIONS))
def test_every_error_body_has_string_error_and_message(case, target, reader, resources):
    context, provoke = ERROR_PROVOCATIONS[case]
    with target.evidence.note(context):
        response = provoke(target, reader, resources)
    if response.status_code < 400:
        not_verified(f"{context} was not refused (HTTP {response.status_code}): no error body to judge")
    body = expect_json_object(response, context)
    kinds = {name: type(body.get(name)).__name__ for name in ("error", "message")}
    expect(
        isinstance(body.get("error"), str) and isinstance(body.get("message"), str),
        'an error body with string fields "error" and "message" (contract §2, §8)',
        f"HTTP {response.status_code} with error: {kinds['error']}, message: {kinds['message']}",
        context,
    )


# -- WWW-Authenticate on 401 -------------------------------------------------------------------

# Bearer-protected operations, each with a body that is valid when one is needed, so that
# only the missing or rejected credentials can be the reason for the answer.
PROTECTED: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "GET /me": ("GET", "/me", None),
    "GET /organization": ("GET", "/organization", None),
    "GET /projects": ("GET", "/projects", None),
    "POST /projects": ("POST", "/projects", {"name": "bsk-conformance-unauthenticated"}),
    "GET /api-keys": ("GET", "/api-keys", None),
    "POST /api-keys": ("POST", "/api-keys", {"name": "bsk-conformance-unauthenticated", "scopes": []}),
    "POST /auth/logout": ("POST", "/auth/logout", {"refreshToken": "rt_bsk-conformance"}),
    "POST /auth/2fa/setup": ("POST", "/auth/2fa/setup", None),
}


def _send(target, operation: str, **credentials: str) -> httpx.Response:
    method, path, body = PROTECTED[operation]
    if body is None:
        return target.request(method, path, **credentials)
    return target.request(method, path, json=body, **credentials)


def _challenge(response: httpx.Response, context: str):
    """The Bearer challenge of a 401, or a failure naming what came instead."""
    expect_status(response, 401, context=context)
    values = response.headers.get_list("www-authenticate")
    if not values:
        fail(f'WWW-Authenticate: Bearer realm="{REALM}"', "no WWW-Authenticate header", context)
    try:
        challenge = bearer_challenge(response)
    except ChallengeSyntaxError as exc:
        fail("a WWW-Authenticate header that parses as RFC 9110 challenges", f"{values!r} ({exc})", context)
    if challenge is None:
        fail("a Bearer challenge (RFC 6750 §3)", f"WWW-Authenticate {values!r}", context)
    realm = challenge.params.get("realm")
    expect(realm == REALM, f'realm="{REALM}"', f"WWW-Authenticate {values!r}", context)
    return challenge


# Operations that accept an API key: elsewhere a key may be refused as a key (403)
# before it is looked at, so only these must answer an unknown key with 401.
KEY_ACCEPTING = ("GET /me", "GET /organization", "GET /projects", "POST /projects")
CREDENTIALS = {
    "no-credentials": "without credentials",
    "garbage-token": "with a bearer token that is no JWT",
    "altered-token": "with an access token whose signature was altered",
    "unknown-key": "with an unknown API key",
}


def _credentials(kind: str, target, request) -> dict[str, str]:
    if kind == "garbage-token":
        return {"bearer": GARBAGE_TOKEN}
    if kind == "altered-token":
        return {"bearer": tampered(request.getfixturevalue("reader").access_token)}
    if kind == "unknown-key":
        return {"api_key": _unknown_key(target)}
    return {}


# Every kind of refused credentials on GET /me, and an unknown key wherever keys are
# taken; the other operations are covered without credentials (BSK-WIRE-003) and
# with rejected tokens (BSK-WIRE-004), whose checks require the same challenge.
WIRE_002_CASES = [("GET /me", kind) for kind in CREDENTIALS] + [
    (operation, "unknown-key") for operation in KEY_ACCEPTING if operation != "GET /me"
]


@pytest.mark.requirement("BSK-WIRE-002")
@pytest.mark.parametrize(("operation", "credentials"), WIRE_002_CASES)
def test_every_401_to_a_bearer_protected_request_has_a_bearer_realm_bsk_challenge(
    operation, credentials, target, request
):
    context = f"{operation} {CREDENTIALS[credentials]}"
    with target.evidence.note(context):
        response = _send(target, operation, **_credentials(credentials, target, request))
    _challenge(response, context)


@pytest.mark.requirement("BSK-WIRE-003")
@pytest.mark.parametrize("operation", sorted(PROTECTED))
def test_a_401_without_credentials_has_no_error_parameter(operation, target):
    context = f"{operation} without credentials"
    with target.evidence.note(context):
        response = _send(target, operation)
    challenge = _challenge(response, context)
    expect(
        "error" not in challenge.params,
        "a Bearer challenge without an error parameter (RFC 6750 §3.1)",
        f'error="{challenge.params.get("error")}"',
        context,
    )


WIRE_004_CASES = [("GET /me", "garbage-token")] + [(operation, "altered-token") for operation in sorted(PROTECTED)]


@pytest.mark.requirement("BSK-WIRE-004")
@pytest.mark.parametrize(("operation", "credentials"), WIRE_004_CASES)
def test_a_401_to_a_rejected_token_says_error_invalid_token(operation, credentials, target, request):
    context = f"{operation} {CREDENTIALS[credentials]}"
    with target.evidence.note(context):
        response = _send(target, operation, **_credentials(credentials, target, request))
    challenge = _challenge(response, context)
    expect(
        challenge.params.get("error") == "invalid_token",
        'error="invalid_token" in the Bearer challenge',
        f"error={challenge.params.get('error')!r}",
        context,
    )


# -- Cache-Control: no-store -------------------------------------------------------------------


def _expect_no_store(response: httpx.Response, context: str) -> None:
    directives = cache_directives(response)
    expect(
        "no-store" in directives,
        "Cache-Control: no-store",
        f"Cache-Control {response.headers.get_list('cache-control')!r}" if directives else "no Cache-Control",
        context,
    )


def _login(target, registry, account: Account) -> httpx.Response:
    code = registry.next_code(account) if registry.secret(account) else None
    return target.login(account, code)


@pytest.mark.requirement("BSK-WIRE-005")
@pytest.mark.parametrize("operation", ["login", "refresh"])
def test_token_responses_carry_cache_control_no_store(operation, target, two_factor_registry, alice):
    response = _login(target, two_factor_registry, alice)
    expect_status(response, 200, context="POST /auth/login")
    tokens = expect_json_object(response, "login answer")
    if operation == "refresh":
        response = target.refresh(tokens.get("refreshToken", ""))
        expect_status(response, 200, context="POST /auth/refresh")
        tokens = expect_json_object(response, "refresh answer")
    try:
        _expect_no_store(response, f"POST /auth/{operation} answered tokens")
    finally:
        target.post(
            "/auth/logout", bearer=tokens.get("accessToken", ""), json={"refreshToken": tokens.get("refreshToken", "")}
        )


@pytest.mark.requirement("BSK-WIRE-006")
def test_key_creation_carries_cache_control_no_store(target, reader, resources):
    response = resources.create_key_response(reader, name=resources.unique_name(), scopes=[])
    expect_status(response, 201, context="POST /api-keys")
    target.evidence.redactor.register(expect_json_object(response, "POST /api-keys").get("key"), "api-key")
    _expect_no_store(response, "POST /api-keys answered a new key")


# -- malformed bodies ------------------------------------------------------------------------


@dataclass(frozen=True)
class BodyEndpoint:
    path: str
    bearer: bool
    valid: dict[str, Any]  # a well-formed body, from which the malformed ones are made
    wrong_types: dict[str, Any]  # a value of the wrong JSON type for each field


BODY_ENDPOINTS = {
    "login": BodyEndpoint(
        "/auth/login",
        False,
        {"email": "nobody@bsk-conformance.invalid", "password": "not the password"},
        {"email": ["nobody@bsk-conformance.invalid"], "password": {"value": "x"}, "twoFactorCode": ["123456"]},
    ),
    "logout": BodyEndpoint(
        "/auth/logout", True, {"refreshToken": "rt_bsk-conformance"}, {"refreshToken": ["rt_bsk-conformance"]}
    ),
    "api-keys": BodyEndpoint(
        "/api-keys",
        True,
        {"name": "bsk-conformance-malformed", "scopes": []},
        {"name": ["bsk-conformance"], "scopes": "projects:read"},
    ),
    "projects": BodyEndpoint("/projects", True, {"name": "bsk-conformance-malformed"}, {"name": ["bsk-conformance"]}),
}
TWO_FACTOR_ENDPOINTS = {
    "2fa-enable": BodyEndpoint("/auth/2fa/enable", True, {"code": "000000"}, {"code": ["000000"]}),
    "2fa-disable": BodyEndpoint("/auth/2fa/disable", True, {"code": "000000"}, {"code": ["000000"]}),
}
REQUIRED = {"email", "password", "refreshToken", "name", "scopes", "code"}


def malformed_bodies(endpoint: BodyEndpoint) -> dict[str, bytes]:
    """Case name -> raw body: not JSON, empty, JSON that is no object, each
    required field missing, each field of the wrong type."""
    valid = endpoint.valid
    cases = {
        "not-json": json.dumps(valid).encode()[:-3],
        "empty": b"",
        "json-array": json.dumps([valid]).encode(),
        "json-null": b"null",
    }
    for name in sorted(set(valid) & REQUIRED):
        cases[f"missing-{name}"] = json.dumps({k: v for k, v in valid.items() if k != name}).encode()
    for name, wrong in sorted(endpoint.wrong_types.items()):
        cases[f"mistyped-{name}"] = json.dumps({**valid, name: wrong}).encode()
    return cases


BODY_CASES = [(name, case) for name, endpoint in BODY_ENDPOINTS.items() for case in malformed_bodies(endpoint)]


def _post_raw(target, session, path: str, body: bytes) -> httpx.Response:
    """POST exactly `body`; anything a broken target creates is deleted again."""
    response = target.post(path, content=body, headers=JSON, bearer=session.access_token if session else None)
    if response.status_code == 201 and path in ("/api-keys", "/projects") and session is not None:
        try:
            created = response.json()
            target.evidence.redactor.register(created.get("key"), "api-key")
            session.delete(f"{path}/{created['id']}")
        except (ValueError, KeyError, TypeError, AttributeError):
            pass
    return response


def _expect_refused_as_malformed(response: httpx.Response, context: str) -> None:
    expect_error(response, 400, "invalid_request", context)


@pytest.mark.requirement("BSK-WIRE-007")
@pytest.mark.parametrize(("endpoint", "case"), BODY_CASES)
def test_a_malformed_body_is_400_invalid_request_never_5xx(endpoint, case, target, request):
    spec = BODY_ENDPOINTS[endpoint]
    session = request.getfixturevalue("reader") if spec.bearer else None
    context = f"POST {spec.path} with a malformed body ({case})"
    with target.evidence.note(context):
        response = _post_raw(target, session, spec.path, malformed_bodies(spec)[case])
    _expect_refused_as_malformed(response, context)


def _account_without_two_factor(target) -> Account:
    for account in target.profile.accounts:
        if not account.totp_secret:
            return account
    not_verified("every profile account has 2FA on: the state in which enable reads a code cannot be reached")


@pytest.mark.requirement("BSK-WIRE-008")
def test_a_malformed_body_to_2fa_enable_is_400_invalid_request(target, two_factor_registry):
    """The bodies are sent after setup, so that enable is waiting for a code
    and only the body can be wrong (a state error may be any 4xx, §8)."""
    account = _account_without_two_factor(target)
    session = two_factor_registry.login(account)
    spec = TWO_FACTOR_ENDPOINTS["2fa-enable"]
    try:
        setup = session.post("/auth/2fa/setup")
        if setup.status_code != 200:
            not_verified(f"POST /auth/2fa/setup answered HTTP {setup.status_code}: enable cannot be reached")
        target.evidence.redactor.register(expect_json_object(setup, "2FA setup").get("secret"), "totp-secret")
        for case, body in malformed_bodies(spec).items():
            context = f"POST /auth/2fa/enable after setup, with a malformed body ({case})"
            with target.evidence.note(context):
                response = _post_raw(target, session, spec.path, body)
            _expect_refused_as_malformed(response, context)
    finally:
        session.logout()


@pytest.mark.requirement("BSK-WIRE-008")
def test_a_malformed_body_to_2fa_disable_is_400_invalid_request(target, two_factor, two_factor_registry):
    """Sent while 2FA is on, so that disable reads a code and only the body can be wrong."""
    session = two_factor_registry.login(two_factor.account)
    spec = TWO_FACTOR_ENDPOINTS["2fa-disable"]
    try:
        for case, body in malformed_bodies(spec).items():
            context = f"POST /auth/2fa/disable with 2FA on, with a malformed body ({case})"
            with target.evidence.note(context):
                response = _post_raw(target, session, spec.path, body)
            if response.status_code == 204:
                two_factor_registry.set(two_factor.account, None)  # a broken target turned it off
            _expect_refused_as_malformed(response, context)
    finally:
        session.logout()


OVERSIZED = {
    "login": ("/auth/login", False, lambda: {"email": _unknown_email(), "password": "p" * ONE_MIB}),
    "api-keys": ("/api-keys", True, lambda: {"name": "k" * ONE_MIB, "scopes": []}),
    "projects": ("/projects", True, lambda: {"name": "p" * ONE_MIB}),
}


@pytest.mark.requirement("BSK-WIRE-009")
@pytest.mark.parametrize("endpoint", sorted(OVERSIZED))
def test_an_oversized_body_is_400_or_413_never_5xx(endpoint, target, request):
    path, bearer, make = OVERSIZED[endpoint]
    session = request.getfixturevalue("reader") if bearer else None
    context = f"POST {path} with a 1 MiB JSON body"
    with target.evidence.note(context):
        response = _post_raw(target, session, path, json.dumps(make()).encode())
    expect_status(response, 400, 413, context=context)


# -- timestamps ------------------------------------------------------------------------------


def _expect_timestamp(body: dict, name: str, context: str, *, nullable: bool = False) -> None:
    value = body.get(name)
    if nullable and value is None:
        return
    expect(is_rfc3339_utc(value), f'"{name}" an RFC 3339 UTC date-time (…Z or …+00:00)', repr(value), context)


def _entry(listing: httpx.Response, item_id: str, context: str) -> dict:
    expect_status(listing, 200, context=context)
    data = expect_json_object(listing, context).get("data")
    if not isinstance(data, list):
        fail('{"data": [...]}', describe(listing), context)
    for entry in data:
        if isinstance(entry, dict) and entry.get("id") == item_id:
            return entry
    fail(f"the created item {item_id} in the list", describe(listing), context)


@pytest.mark.requirement("BSK-WIRE-010")
def test_key_timestamps_are_rfc3339_utc(reader, resources):
    """The expiry sent is a day after the target's own createdAt of a first key:
    the target's clock, not the harness's, decides what is in the future."""
    first = resources.create_key(reader, scopes=[])
    _expect_timestamp(first, "createdAt", "POST /api-keys answer (no expiresAt asked)")
    _expect_timestamp(first, "expiresAt", "POST /api-keys answer (no expiresAt asked)", nullable=True)
    expires = int(timestamp(first["createdAt"])) + 86_400
    sent = _format_utc(expires)
    created = resources.create_key(reader, scopes=[], expires_at=sent)
    views = {
        "POST /api-keys answer": created,
        "GET /api-keys/{id} answer": _get_object(reader, f"/api-keys/{created['id']}"),
        "GET /api-keys entry": _entry(reader.get("/api-keys"), created["id"], "GET /api-keys"),
    }
    for context, body in views.items():
        _expect_timestamp(body, "createdAt", context)
        _expect_timestamp(body, "expiresAt", context)
        expect(
            abs(timestamp(body["expiresAt"]) - expires) < 1,
            f"expiresAt the instant sent ({sent})",
            repr(body["expiresAt"]),
            context,
        )


@pytest.mark.requirement("BSK-WIRE-010")
def test_project_timestamps_are_rfc3339_utc(reader, resources):
    created = resources.create_project(reader)
    views = {
        "POST /projects answer": created,
        "GET /projects/{id} answer": _get_object(reader, f"/projects/{created.get('id')}"),
        "GET /projects entry": _entry(reader.get("/projects"), created.get("id"), "GET /projects"),
    }
    for context, body in views.items():
        _expect_timestamp(body, "createdAt", context)


def _get_object(user, path: str) -> dict:
    response = user.get(path)
    expect_status(response, 200, context=f"GET {path}")
    return expect_json_object(response, f"GET {path}")


def _format_utc(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
