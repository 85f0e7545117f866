"""Contract §2 — Wire format: malformed request bodies (with the readings of §8).

   "Malformed request bodies get 400 invalid_request, never 5xx."
   §8: "Missing or mistyped fields anywhere are 400 invalid_request."

Each endpoint gets a body that is not JSON, an empty one, JSON that is no
object, and its valid body with each required field missing and each field
of the wrong type. Malformed refresh bodies (400 or 401, §8) are
BSK-REF-008's, in test_refresh.py; oversized bodies are BSK-WIRE-009's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from bsk_conformance.harness.api import Account, expect_error, expect_json_object, not_verified, requirement

from ._cases import cases
from ._wire import post_raw

REQUIRED = {"email", "password", "refreshToken", "name", "scopes", "code"}


@dataclass(frozen=True)
class BodyEndpoint:
    path: str
    bearer: bool  # sent with an access token
    valid: dict[str, Any]  # a well-formed body, from which the malformed ones are made
    wrong_types: dict[str, Any]  # a value of the wrong JSON type for each field

    def malformed_bodies(self) -> dict[str, bytes]:
        """Case name -> raw body: not JSON, empty, JSON that is no object, each
        required field missing, each field of the wrong type."""
        valid = self.valid
        bodies = {
            "not-json": json.dumps(valid).encode()[:-3],
            "empty": b"",
            "json-array": json.dumps([valid]).encode(),
            "json-null": b"null",
        }
        for name in sorted(set(valid) & REQUIRED):
            bodies[f"missing-{name}"] = json.dumps({k: v for k, v in valid.items() if k != name}).encode()
        for name, wrong in sorted(self.wrong_types.items()):
            bodies[f"mistyped-{name}"] = json.dumps({**valid, name: wrong}).encode()
        return bodies


@dataclass(frozen=True)
class MalformedBody:
    endpoint: BodyEndpoint
    case: str  # which malformation, a key of `BodyEndpoint.malformed_bodies()`
    body: bytes


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
MALFORMED_BODIES = {
    f"{name}-{case}": MalformedBody(endpoint, case, body)
    for name, endpoint in BODY_ENDPOINTS.items()
    for case, body in endpoint.malformed_bodies().items()
}
TWO_FACTOR_ENABLE = BodyEndpoint("/auth/2fa/enable", True, {"code": "000000"}, {"code": ["000000"]})
TWO_FACTOR_DISABLE = BodyEndpoint("/auth/2fa/disable", True, {"code": "000000"}, {"code": ["000000"]})


def _expect_refused_as_malformed(response: httpx.Response, context: str) -> None:
    expect_error(response, 400, "invalid_request", context)


@requirement("BSK-WIRE-007")
@cases("case", MALFORMED_BODIES)
def test_a_malformed_body_is_400_invalid_request_never_5xx(case: MalformedBody, target, request):
    session = request.getfixturevalue("reader") if case.endpoint.bearer else None
    context = f"POST {case.endpoint.path} with a malformed body ({case.case})"
    with target.evidence.note(context):
        response = post_raw(target, session, case.endpoint.path, case.body)
    _expect_refused_as_malformed(response, context)


def _account_without_two_factor(target) -> Account | None:
    for account in target.profile.accounts:
        if not account.totp_secret:
            return account
    return None


def _malformed_enables(target, two_factor_registry) -> str | None:
    """Enable is sent the bodies after setup, so that it is waiting for a code and
    only the body can be wrong (a state error may be any 4xx, §8). Returns why
    this state could not be reached, or None once every body was refused."""
    account = _account_without_two_factor(target)
    if account is None:
        return "every profile account has 2FA on: the state in which enable reads a code cannot be reached"
    session = two_factor_registry.login(account)
    try:
        setup = session.post("/auth/2fa/setup")
        if setup.status_code != 200:
            return f"POST /auth/2fa/setup answered HTTP {setup.status_code}: enable cannot be reached"
        target.secret(expect_json_object(setup, "2FA setup").get("secret"), "totp-secret")
        for case, body in TWO_FACTOR_ENABLE.malformed_bodies().items():
            context = f"POST /auth/2fa/enable after setup, with a malformed body ({case})"
            with target.evidence.note(context):
                response = post_raw(target, session, TWO_FACTOR_ENABLE.path, body)
            _expect_refused_as_malformed(response, context)
    finally:
        session.logout()
    return None


def _malformed_disables(target, two_factor, two_factor_registry) -> None:
    """Sent while 2FA is on, so that disable reads a code and only the body can be wrong."""
    session = two_factor_registry.login(two_factor.account)
    try:
        for case, body in TWO_FACTOR_DISABLE.malformed_bodies().items():
            context = f"POST /auth/2fa/disable with 2FA on, with a malformed body ({case})"
            with target.evidence.note(context):
                response = post_raw(target, session, TWO_FACTOR_DISABLE.path, body)
            if response.status_code == 204:
                two_factor_registry.set(two_factor.account, None)  # a broken target turned it off
            _expect_refused_as_malformed(response, context)
    finally:
        session.logout()


@requirement("BSK-WIRE-008")
def test_a_malformed_body_to_2fa_enable_or_disable_is_400_invalid_request(target, two_factor_registry, request):
    """Enable goes first: the `two_factor` fixture, asked for only then, may turn
    2FA on for the very account whose enable is tried. A disable that is judged
    stands even when enable's state could not be reached (then: not verified)."""
    unreachable = _malformed_enables(target, two_factor_registry)
    _malformed_disables(target, request.getfixturevalue("two_factor"), two_factor_registry)
    if unreachable is not None:
        not_verified(unreachable)
