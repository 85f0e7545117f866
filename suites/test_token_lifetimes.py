"""Contract §1, §3, §4 — Token lifetimes.

   "access token: JWT, lifetime 15 minutes (900 s)"
   "refresh token: lifetime 7 days (604 800 s)"

Boundaries are placed from the token's own `iat` (access) or the login time
(refresh). A frozen clock puts them to the second; a clock that keeps
ticking gets the contract's §8 allowance of a couple of seconds either side.
"""

from __future__ import annotations

import pytest

from bsk_conformance.harness.expect import expect, expect_error, expect_fields, expect_json_object, expect_status

from ._jwt import claims, numeric_claim

ACCESS_LIFETIME = 900
REFRESH_LIFETIME = 604_800
TOKEN_FIELDS = {"accessToken": str, "refreshToken": str, "tokenType": str, "expiresIn": int, "refreshExpiresIn": int}


def advance_to(clock, moment: float) -> None:
    """Move the target's time to `moment` (never backwards)."""
    clock.advance(max(0.0, moment - clock.now()))


@pytest.mark.requirement("BSK-TOK-001")
def test_login_answers_the_token_pair_in_the_documented_shape(two_factor_registry, alice):
    session = two_factor_registry.login(alice)
    body = session.login_body
    expect_fields(body, TOKEN_FIELDS, "login answer")
    expect(body["tokenType"] == "Bearer", 'tokenType "Bearer"', repr(body["tokenType"]), "login answer")
    expect(body["expiresIn"] == ACCESS_LIFETIME, f"expiresIn {ACCESS_LIFETIME}", body["expiresIn"], "login answer")
    expect(
        body["refreshExpiresIn"] == REFRESH_LIFETIME,
        f"refreshExpiresIn {REFRESH_LIFETIME}",
        body["refreshExpiresIn"],
        "login answer",
    )


@pytest.mark.requirement("BSK-TOK-002")
def test_access_token_exp_is_iat_plus_900(user):
    payload = claims(user.access_token)
    iat, exp = numeric_claim(payload, "iat"), numeric_claim(payload, "exp")
    expect(
        exp - iat == ACCESS_LIFETIME,
        f"exp - iat = {ACCESS_LIFETIME}",
        f"exp - iat = {exp - iat}",
        "access token claims",
    )


@pytest.mark.requirement("BSK-TOK-003")
def test_access_token_is_accepted_until_900_seconds(user, clock):
    issued = numeric_claim(claims(user.access_token), "iat")
    advance_to(clock, issued + ACCESS_LIFETIME - 1 - clock.tolerance)
    response = user.get("/me")
    expect_status(response, 200, context=f"GET /me with an access token {ACCESS_LIFETIME - 1} s old")


@pytest.mark.requirement("BSK-TOK-004")
def test_access_token_is_refused_from_its_exp(user, clock):
    issued = numeric_claim(claims(user.access_token), "iat")
    advance_to(clock, issued + ACCESS_LIFETIME + clock.tolerance)
    response = user.get("/me")
    context = f"GET /me with an access token {ACCESS_LIFETIME} s old"
    expect_error(response, 401, context=context)
    challenge = response.headers.get("www-authenticate", "")
    expect(
        'error="invalid_token"' in challenge,
        'WWW-Authenticate with error="invalid_token"',
        repr(challenge) if challenge else "no WWW-Authenticate header",
        context,
    )


@pytest.mark.requirement("BSK-TOK-005")
def test_refresh_token_is_accepted_until_604800_seconds(two_factor_registry, alice, clock, target):
    logged_in_at = clock.now()
    session = two_factor_registry.login(alice)
    advance_to(clock, logged_in_at + REFRESH_LIFETIME - 1 - clock.tolerance)
    response = target.refresh(session.refresh_token)
    expect_status(response, 200, context=f"POST /auth/refresh with a refresh token {REFRESH_LIFETIME - 1} s old")


@pytest.mark.requirement("BSK-TOK-006")
def test_refresh_token_is_refused_from_604800_seconds(two_factor_registry, alice, clock, target):
    session = two_factor_registry.login(alice)
    logged_in_at = clock.now()
    advance_to(clock, logged_in_at + REFRESH_LIFETIME + clock.tolerance)
    response = target.refresh(session.refresh_token)
    expect_error(response, 401, "invalid_token", f"POST /auth/refresh with a refresh token {REFRESH_LIFETIME} s old")


@pytest.mark.requirement("BSK-TOK-007")
def test_refresh_rotates_to_a_new_pair(user, target):
    response = target.refresh(user.refresh_token)
    expect_status(response, 200, context="POST /auth/refresh")
    body = expect_json_object(response, "refresh answer")
    expect_fields(body, TOKEN_FIELDS, "refresh answer (same shape as login)")
    expect(
        body["refreshToken"] != user.refresh_token,
        "a new refresh token",
        "the refresh token that was presented",
        "refresh answer",
    )
    user.refresh_token = body["refreshToken"]  # so the fixture logs out the live one
