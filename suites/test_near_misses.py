"""Contract §3, §4 — Near-miss credentials (issue 22, class 3).

   "Unknown, malformed, revoked and expired keys: 401 invalid_api_key."
   "stripped or altered signatures ... are all rejected"
   "401 invalid_credentials (same body for unknown email and wrong password)"
   "401 invalid_two_factor_code (wrong or already used code)"
   "401 invalid_token for expired, revoked, already-rotated or malformed refresh tokens"

Every credential the harness holds has a family of near-misses
(suites/_near_miss.py, fixtures/attack-vectors/near-misses.json): letter case,
truncation, extension, whitespace, encodings, look-alikes, the other account's
or environment's parts. Each is sent where the credential is used, and must be
refused exactly as a plain wrong value is at that place: the same status and
error code, never 200, never 5xx. The whole family is sent (20 values at most
per credential: no sampling, so a run is the same every time).

What HTTP itself normalises is not the target's doing and is not sent in a
header: leading and trailing whitespace around a field value is not part of it
(RFC 9110 §5.5) and CR/LF cannot be in one. In JSON bodies (password, TOTP
code, refresh token) every member is sent. A near-miss of a TOTP code that is
no longer six ASCII digits may also be 400, as any malformed code (BSK-TFA-008).
Logins with near-misses are failed logins: a throttle's 429 is waited out on
the target's clock and the value sent again (`lockouts`), so the throttle
(§8 latitude) never decides.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable, Iterator

import httpx
import pyotp
import pytest

from bsk_conformance.harness.api import (
    NotVerified,
    PreconditionFailed,
    expect,
    expect_status,
    not_verified,
    requirement,
)

from ._near_miss import NOW, OTHER_ACCOUNT, NearMiss, near_misses
from ._token_pairs import log_out_answer

ALPHANUMERIC = string.ascii_letters + string.digits
SIX_DIGITS = re.compile(r"[0-9]{6}")
Answer = tuple[str, httpx.Response]


# -- judging a family -------------------------------------------------------------


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), str) else None


def _outcome(response: httpx.Response) -> str:
    # the status and error code alone: a 200's body is a credential, and a quote cut short escapes redaction
    code = _error_code(response)
    return f"HTTP {response.status_code}" + (f" {code}" if code else "")


def _plain_refusal(plain: httpx.Response, what: str) -> tuple[int, str | None]:
    """The answer to a plain wrong value: what every near-miss is held to."""
    if not 400 <= plain.status_code < 500:
        raise PreconditionFailed(f"the target did not refuse {what} with a 4xx", plain)
    return plain.status_code, _error_code(plain)


def _expect_refused_alike(
    answers: list[Answer],
    plain: tuple[int, str | None],
    context: str,
    *,
    also: Callable[[str, httpx.Response], bool] = lambda label, response: False,
) -> None:
    status, code = plain
    differing = [
        f"{label}: {_outcome(response)}"
        for label, response in answers
        if (response.status_code, _error_code(response)) != plain and not also(label, response)
    ]
    expect(
        not differing,
        f"HTTP {status}" + (f" {code}" if code else "") + f" to each of {len(answers)} near-misses, as to a plain "
        "wrong value",
        "; ".join(differing),
        context,
    )


def _others(request: pytest.FixtureRequest, credential: Callable[[object], str]) -> dict[str, str]:
    """{"other-account": the same credential of bob}, or nothing without a second organization."""
    try:
        return {OTHER_ACCOUNT: credential(request.getfixturevalue("other_user"))}
    except NotVerified:
        return {}


def _header_members(value: str, kind: str, others: dict[str, str], level: str = "MUST") -> list[NearMiss]:
    return [miss for miss in near_misses(value, kind, others=others) if miss.in_headers and miss.level == level]


def _random_key(prefix: str) -> str:
    return prefix + "".join(secrets.choice(ALPHANUMERIC) for _ in range(40))


# -- X-API-Key --------------------------------------------------------------------


@requirement("BSK-NEAR-001")
def test_near_misses_of_an_api_key_are_refused_as_an_unknown_key(request, user, resources, target):
    created = resources.create_key(user, scopes=[])
    key = created["key"]

    def other_key(session) -> str:
        return resources.create_key(session, scopes=[])["key"]

    others = _others(request, other_key)
    plain_key = _random_key(target.profile.key_prefix)
    target.secret(plain_key, "api-key")
    plain = _plain_refusal(target.get("/me", api_key=plain_key), "a plain unknown key (GET /me)")
    answers = []
    for miss in _header_members(key, "api-key", others):
        target.secret(miss.value, "api-key")
        answers.append((miss.label, target.get("/me", headers={"X-API-Key": miss.value.encode("utf-8")})))
    _expect_refused_alike(answers, plain, "GET /me with X-API-Key: a near-miss of a valid key")
    expect_status(target.get("/me", api_key=key), 200, context="GET /me with the genuine key, after its near-misses")


# -- Authorization: Bearer ------------------------------------------------------------


def _bearer(token: str) -> dict[str, bytes]:
    return {"Authorization": b"Bearer " + token.encode("utf-8")}


def _altered_signature(token: str) -> str:
    """The plain wrong token: the genuine one with a random signature of the same length."""
    signing_input, signature = token.rsplit(".", 1)
    return f"{signing_input}." + "".join(secrets.choice(ALPHANUMERIC) for _ in signature)


def _bearer_answers(target, token: str, members: list[NearMiss]) -> list[Answer]:
    answers = []
    for miss in members:
        target.secret(miss.value, "access-token")
        answers.append((miss.label, target.get("/me", headers=_bearer(miss.value))))
    return answers


@requirement("BSK-NEAR-002")
def test_near_misses_of_an_access_token_are_refused_as_a_wrong_token(request, user, target):
    others = _others(request, lambda session: session.access_token)
    wrong = _altered_signature(user.access_token)
    target.secret(wrong, "access-token")
    plain = _plain_refusal(target.get("/me", bearer=wrong), "an access token with an altered signature (GET /me)")
    answers = _bearer_answers(target, user.access_token, _header_members(user.access_token, "access-token", others))
    _expect_refused_alike(answers, plain, "GET /me with Authorization: Bearer and a near-miss of a valid token")
    expect_status(user.get("/me"), 200, context="GET /me with the genuine token, after its near-misses")


@requirement("BSK-NEAR-003")
def test_an_access_token_with_a_padded_signature_is_refused(user, target):
    members = [m for m in near_misses(user.access_token, "access-token") if m.label == "padded-signature"]
    if not members:
        not_verified("the access token's signature segment is a multiple of 4 characters long: nothing to pad")
    wrong = _altered_signature(user.access_token)
    target.secret(wrong, "access-token")
    plain = _plain_refusal(target.get("/me", bearer=wrong), "an access token with an altered signature (GET /me)")
    answers = _bearer_answers(target, user.access_token, members)
    _expect_refused_alike(answers, plain, "GET /me with the genuine token and '=' padding after its signature")


# -- POST /auth/login: password ----------------------------------------------------------


def _login_until_judged(target, lockouts, body: dict, what: str) -> httpx.Response:
    """One login; a throttle's 429 is waited out (Retry-After on the target's clock) and the login sent again."""
    for _ in range(3):
        response = target.post("/auth/login", json=body)
        if response.status_code != 429:
            return response
        if not lockouts.wait_out(response):
            not_verified("the login throttle answered 429 and the clock cannot move past its Retry-After")
    not_verified(f"the login throttle answered 429 to {what} even after each Retry-After")


@requirement("BSK-NEAR-004")
def test_near_misses_of_the_password_are_refused_as_a_wrong_password(request, alice, lockouts, target):
    if target.profile.accounts[0].totp_secret:
        not_verified("the first profile account has 2FA always on: every login would need a code")
    if not lockouts.can_release():
        not_verified("its failed logins may lock the account; restoring it needs the clock moved past Retry-After")
    lockouts.watch(alice)
    others = {}
    try:
        others = {OTHER_ACCOUNT: request.getfixturevalue("bob").password}
    except NotVerified:
        pass
    wrong = "wrong-" + secrets.token_hex(12)
    target.secret(wrong, "password")
    plain_answer = _login_until_judged(target, lockouts, {"email": alice.email, "password": wrong},
                                       "a plain wrong password")
    plain = _plain_refusal(plain_answer, "a plain wrong password (POST /auth/login)")
    answers = []
    for miss in near_misses(alice.password, "password", others=others):
        if miss.level != "MUST":
            continue
        target.secret(miss.value, "password")
        response = _login_until_judged(target, lockouts, {"email": alice.email, "password": miss.value}, miss.label)
        if response.status_code == 200:
            log_out_answer(target, response)
        answers.append((miss.label, response))
    _expect_refused_alike(answers, plain, f"POST /auth/login as {alice.email} with a near-miss of the password")


# -- POST /auth/login: twoFactorCode ---------------------------------------------------------


def _code_families(two_factor, other_secret: str) -> Iterator[list[NearMiss]]:
    """The MUST family of a current code, made afresh from a new code each time it is asked for."""
    while True:
        code = two_factor.fresh_code()
        now = two_factor.registry.now()
        others = {OTHER_ACCOUNT: pyotp.TOTP(other_secret).at(now), NOW: str(now)}
        yield [m for m in near_misses(code, "totp-code", others=others) if m.level == "MUST"]


def _member(family: list[NearMiss], label: str) -> NearMiss | None:
    return next((miss for miss in family if miss.label == label), None)


@requirement("BSK-NEAR-005")
def test_near_misses_of_a_totp_code_are_refused_as_a_wrong_code(lock_can_be_waited_out, two_factor, lockouts,
                                                                 target):
    """One current code's family is sent until a member is accepted or a
    throttle's wait moves the clock past the code's step; then the family of
    a fresh code takes over at the next member. A member that a code does not
    have (a leading zero to drop) is tried only if the code has it. The other
    account's code is a current code of another secret (both accounts with
    2FA on at once are BSK-PAIR-001's)."""
    account = two_factor.account
    lockouts.watch(account)
    body = {"email": account.email, "password": account.password}
    plain_answer = _login_until_judged(target, lockouts, {**body, "twoFactorCode": two_factor.wrong_code()},
                                       "a plain wrong code")
    plain = _plain_refusal(plain_answer, "a plain wrong code (POST /auth/login)")
    families = _code_families(two_factor, pyotp.random_base32(32))
    family = next(families)
    sent: dict[str, str] = {}
    answers: list[Answer] = []
    for label in [miss.label for miss in family]:
        miss = _member(family, label)
        response = target.post("/auth/login", json={**body, "twoFactorCode": miss.value}) if miss else None
        if response is not None and response.status_code == 429:
            if not lockouts.wait_out(response):
                not_verified("the login throttle answered 429 and the clock cannot move past its Retry-After")
            family = next(families)  # the wait moved the clock past the code's step
            miss = _member(family, label)
            response = target.post("/auth/login", json={**body, "twoFactorCode": miss.value}) if miss else None
            if response is not None and response.status_code == 429:
                not_verified(f"the login throttle answered 429 to {label} even after its Retry-After")
        if miss is None or response is None:
            continue
        if response.status_code == 200:
            log_out_answer(target, response)
            family = next(families)  # the accepted step is spent: the rest from a fresh code
        sent[label] = miss.value
        answers.append((label, response))

    def malformed_as_400(label: str, response: httpx.Response) -> bool:
        malformed = not SIX_DIGITS.fullmatch(sent[label])
        return malformed and response.status_code == 400 and _error_code(response) is not None

    _expect_refused_alike(answers, plain, f"POST /auth/login as {account.email} with a near-miss of a current code",
                          also=malformed_as_400)


# -- POST /auth/refresh --------------------------------------------------------------------


@requirement("BSK-NEAR-006")
def test_near_misses_of_a_refresh_token_are_refused_as_a_wrong_one(request, two_factor_registry, alice, target):
    session = two_factor_registry.login(alice)
    token = session.refresh_token
    others = _others(request, lambda other: other.refresh_token)
    wrong = "".join(secrets.choice(ALPHANUMERIC) for _ in token)
    target.secret(wrong, "refresh-token")
    plain = _plain_refusal(target.refresh(wrong), "a plain unknown refresh token (POST /auth/refresh)")
    answers = []
    for miss in near_misses(token, "refresh-token", others=others):
        if miss.level != "MUST":
            continue
        target.secret(miss.value, "refresh-token")
        response = target.refresh(miss.value)
        if response.status_code == 200:
            log_out_answer(target, response)
        answers.append((miss.label, response))
    _expect_refused_alike(answers, plain, "POST /auth/refresh with a near-miss of a valid refresh token")
    genuine = target.refresh(token)
    if genuine.status_code != 200:
        raise PreconditionFailed("the target refused the genuine refresh token after its near-misses", genuine)
    log_out_answer(target, genuine)
