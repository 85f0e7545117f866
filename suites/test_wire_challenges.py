"""Contract §2 — Wire format: the challenge of a 401.

   "401 responses to a bearer-protected request carry WWW-Authenticate: Bearer realm="bsk",
    with error="invalid_token" when a token was sent but rejected (RFC 6750 §3)."

Challenges are parsed as RFC 9110 §11.6.1 defines them: scheme and parameter
names in any case, values quoted or not, extra parameters (error_description,
scope, ...) and extra challenges allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bsk_conformance.harness.api import expect, expect_status, fail, requirement

from ._cases import cases
from ._wire import ChallengeSyntaxError, bearer_challenge, tampered, unknown_key

REALM = "bsk"
GARBAGE_TOKEN = "not-a-jwt-bsk-conformance"


@dataclass(frozen=True)
class Operation:
    """A bearer-protected operation, with a body that is valid when one is needed,
    so that only the missing or rejected credentials can be the reason for the answer."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    # elsewhere a key may be refused as a key (403) before it is looked at,
    # so only operations that take keys must answer an unknown key with 401
    takes_keys: bool = False

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    def send(self, target, **credentials: str) -> httpx.Response:
        if self.body is None:
            return target.request(self.method, self.path, **credentials)
        return target.request(self.method, self.path, json=self.body, **credentials)


@dataclass(frozen=True)
class Credentials:
    context: str
    make: Callable[..., dict[str, str]]  # (target, request) -> the request's credentials


@dataclass(frozen=True)
class Presented:
    """An operation with the credentials (an id of CREDENTIALS) it is sent with."""

    operation: Operation
    credentials: str

    @property
    def id(self) -> str:
        return f"{self.operation}-{self.credentials}"

    @property
    def context(self) -> str:
        return f"{self.operation} {CREDENTIALS[self.credentials].context}"

    def send(self, target, request) -> httpx.Response:
        return self.operation.send(target, **CREDENTIALS[self.credentials].make(target, request))


PROTECTED = {
    "GET /api-keys": Operation("GET", "/api-keys"),
    "GET /me": Operation("GET", "/me", takes_keys=True),
    "GET /organization": Operation("GET", "/organization", takes_keys=True),
    "GET /projects": Operation("GET", "/projects", takes_keys=True),
    "POST /api-keys": Operation("POST", "/api-keys", {"name": "bsk-conformance-unauthenticated", "scopes": []}),
    "POST /auth/2fa/setup": Operation("POST", "/auth/2fa/setup"),
    "POST /auth/logout": Operation("POST", "/auth/logout", {"refreshToken": "rt_bsk-conformance"}),
    "POST /projects": Operation("POST", "/projects", {"name": "bsk-conformance-unauthenticated"}, takes_keys=True),
}
CREDENTIALS = {
    "no-credentials": Credentials("without credentials", lambda target, request: {}),
    "garbage-token": Credentials(
        "with a bearer token that is no JWT", lambda target, request: {"bearer": GARBAGE_TOKEN}
    ),
    "altered-token": Credentials(
        "with an access token whose signature was altered",
        lambda target, request: {"bearer": tampered(request.getfixturevalue("reader").access_token)},
    ),
    "unknown-key": Credentials("with an unknown API key", lambda target, request: {"api_key": unknown_key(target)}),
}
ME = PROTECTED["GET /me"]


def _table(*presented: Presented) -> dict[str, Presented]:
    return {case.id: case for case in presented}


# Every kind of refused credentials on GET /me, and an unknown key wherever keys are
# taken; the other operations are covered without credentials (BSK-WIRE-003) and
# with rejected tokens (BSK-WIRE-004), whose checks require the same challenge.
WIRE_002_CASES = _table(
    *(Presented(ME, kind) for kind in CREDENTIALS),
    *(
        Presented(operation, "unknown-key")
        for operation in PROTECTED.values()
        if operation.takes_keys and operation != ME
    ),
)
WIRE_004_CASES = _table(
    Presented(ME, "garbage-token"), *(Presented(operation, "altered-token") for operation in PROTECTED.values())
)


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


def _challenge_to(case: Presented, target, request):
    with target.evidence.note(case.context):
        response = case.send(target, request)
    return _challenge(response, case.context)


@requirement("BSK-WIRE-002")
@cases("case", WIRE_002_CASES)
def test_every_401_to_a_bearer_protected_request_has_a_bearer_realm_bsk_challenge(case: Presented, target, request):
    _challenge_to(case, target, request)


@requirement("BSK-WIRE-003")
@cases("operation", PROTECTED)
def test_a_401_without_credentials_has_no_error_parameter(operation: Operation, target, request):
    case = Presented(operation, "no-credentials")
    challenge = _challenge_to(case, target, request)
    expect(
        "error" not in challenge.params,
        "a Bearer challenge without an error parameter (RFC 6750 §3.1)",
        f'error="{challenge.params.get("error")}"',
        case.context,
    )


@requirement("BSK-WIRE-004")
@cases("case", WIRE_004_CASES)
def test_a_401_to_a_rejected_token_says_error_invalid_token(case: Presented, target, request):
    challenge = _challenge_to(case, target, request)
    expect(
        challenge.params.get("error") == "invalid_token",
        'error="invalid_token" in the Bearer challenge',
        f"error={challenge.params.get('error')!r}",
        case.context,
    )
