"""The stray-credential scanner (suites/_stray_credentials.py) on hand-made
exchanges: what it takes for a candidate, what it leaves alone, and which
rule an answer's kind falls under. The variants in tests/faulty/variants/leaks.py
show it end to end, in both legs."""

from __future__ import annotations

import json

import httpx

from bsk_conformance.harness.api import RawExchange, Redactor
from bsk_conformance.suites._stray_credentials import (
    ERROR_ANSWER,
    LOGIN_REFUSED,
    LOGOUT_ANSWER,
    OTHER_SUCCESS,
    StrayCredentialScanner,
    rule_of,
)

JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c3JfYWxpY2UifQ.c2lnbmF0dXJlLWJ5dGVz"
OPAQUE = "rt_" + "A1b2C3d4" * 6
KEY = "bsk_test_" + "Zy9" * 12


def _raw(method: str, path: str, status: int, body: object = None, *, sent: object = None,
         headers: dict[str, str] | None = None) -> RawExchange:
    return RawExchange(method, f"http://t{path}", httpx.Headers({}), json.dumps(sent).encode() if sent else b"",
                       status, httpx.Headers(headers or {}), json.dumps(body).encode() if body is not None else b"")


def _pending(scanner: StrayCredentialScanner) -> list[tuple[str, str]]:
    return [(c.value, c.rule) for c in scanner._pending]


def test_each_kind_of_answer_has_its_rule():
    assert rule_of("POST", "/v1/auth/login", 401) == LOGIN_REFUSED
    assert rule_of("GET", "/me", 401) == ERROR_ANSWER
    assert rule_of("POST", "/auth/login", 429) == ERROR_ANSWER
    assert rule_of("POST", "/auth/logout", 204) == LOGOUT_ANSWER
    assert rule_of("POST", "/projects", 201) == OTHER_SUCCESS


def test_credentials_where_the_contract_puts_them_are_not_candidates_elsewhere_they_are():
    scanner = StrayCredentialScanner(Redactor())
    scanner.observe(_raw("POST", "/auth/login", 200, {"accessToken": JWT, "refreshToken": OPAQUE, "note": KEY}))
    scanner.observe(_raw("POST", "/auth/login", 401, {"error": "two_factor_required", "mfaToken": JWT}))
    pending = _pending(scanner)
    assert (KEY, OTHER_SUCCESS) in pending  # a key in another field of the login answer
    assert (JWT, LOGIN_REFUSED) in pending  # the access token again, in a refused login
    assert OPAQUE not in {value for value, _ in pending}
    assert not next(c for c in scanner._pending if c.value == JWT).new  # seen issued: no refresh trial


def test_opaque_strings_only_where_the_contract_puts_no_credential():
    scanner = StrayCredentialScanner(Redactor())
    scanner.observe(_raw("GET", "/projects", 200, {"data": [{"id": OPAQUE}]}))
    assert _pending(scanner) == []  # an id in a listing
    scanner.observe(_raw("POST", "/auth/logout", 204, headers={"set-cookie": f"refresh_token={OPAQUE}; HttpOnly"}))
    scanner.observe(_raw("GET", "/me", 401, {"error": "invalid_token", "message": "m"},
                         headers={"x-request-id": "b" * 40}))
    assert _pending(scanner) == [(OPAQUE, LOGOUT_ANSWER)]


def test_what_the_request_carried_is_never_a_candidate():
    scanner = StrayCredentialScanner(Redactor())
    scanner.observe(_raw("POST", "/auth/refresh", 401, {"error": "invalid_token", "message": f"bad {OPAQUE}"},
                         sent={"refreshToken": OPAQUE}))
    assert _pending(scanner) == []
