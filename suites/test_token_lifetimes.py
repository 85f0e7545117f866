"""Contract §1, §3, §4 — Token lifetimes.

   "access token: JWT, lifetime 15 minutes (900 s)"
   "refresh token: lifetime 7 days (604 800 s)"

Boundaries are placed from the token's own `iat` (access) or the login time
(refresh). A frozen clock puts them to the second; a clock that keeps
ticking gets the contract's §8 allowance of a couple of seconds either side.
"""

from __future__ import annotations

from bsk_conformance.harness.api import (
    ACCESS_TOKEN_TTL,
    REFRESH_TOKEN_TTL,
    advance_to,
    expect,
    expect_error,
    expect_fields,
    expect_json_object,
    expect_status,
    requirement,
)

from ._jwt import claims, numeric_claim

TOKEN_FIELDS = {"accessToken": str, "refreshToken": str, "tokenType": str, "expiresIn": int, "refreshExpiresIn": int}


@requirement("BSK-TOK-001")
def test_login_answers_the_token_pair_in_the_documented_shape(two_factor_registry, alice):
    session = two_factor_registry.login(alice)
    body = session.login_body
    expect_fields(body, TOKEN_FIELDS, "login answer")
    expect(body["tokenType"] == "Bearer", 'tokenType "Bearer"', repr(body["tokenType"]), "login answer")
    expect(body["expiresIn"] == ACCESS_TOKEN_TTL, f"expiresIn {ACCESS_TOKEN_TTL}", body["expiresIn"], "login answer")
    expect(
        body["refreshExpiresIn"] == REFRESH_TOKEN_TTL,
        f"refreshExpiresIn {REFRESH_TOKEN_TTL}",
        body["refreshExpiresIn"],
        "login answer",
    )


@requirement("BSK-TOK-002")
def test_access_token_exp_is_iat_plus_900(user):
    payload = claims(user.access_token)
    iat, exp = numeric_claim(payload, "iat"), numeric_claim(payload, "exp")
    expect(
        exp - iat == ACCESS_TOKEN_TTL,
        f"exp - iat = {ACCESS_TOKEN_TTL}",
        f"exp - iat = {exp - iat}",
        "access token claims",
    )


@requirement("BSK-TOK-003")
def test_access_token_is_accepted_until_900_seconds(user, clock):
    issued = numeric_claim(claims(user.access_token), "iat")
    advance_to(clock, issued + ACCESS_TOKEN_TTL - 1 - clock.tolerance)
    response = user.get("/me")
    expect_status(response, 200, context=f"GET /me with an access token {ACCESS_TOKEN_TTL - 1} s old")


@requirement("BSK-TOK-004")
def test_access_token_is_refused_from_its_exp(user, clock):
    issued = numeric_claim(claims(user.access_token), "iat")
    advance_to(clock, issued + ACCESS_TOKEN_TTL + clock.tolerance)
    response = user.get("/me")
    context = f"GET /me with an access token {ACCESS_TOKEN_TTL} s old"
    expect_error(response, 401, context=context)
    challenge = response.headers.get("www-authenticate", "")
    expect(
        'error="invalid_token"' in challenge,
        'WWW-Authenticate with error="invalid_token"',
        repr(challenge) if challenge else "no WWW-Authenticate header",
        context,
    )


@requirement("BSK-TOK-005")
def test_refresh_token_is_accepted_until_604800_seconds(two_factor_registry, alice, clock, target):
    logged_in_at = clock.now()
    session = two_factor_registry.login(alice)
    advance_to(clock, logged_in_at + REFRESH_TOKEN_TTL - 1 - clock.tolerance)
    response = target.refresh(session.refresh_token)
    expect_status(response, 200, context=f"POST /auth/refresh with a refresh token {REFRESH_TOKEN_TTL - 1} s old")


@requirement("BSK-TOK-006")
def test_refresh_token_is_refused_from_604800_seconds(two_factor_registry, alice, clock, target):
    session = two_factor_registry.login(alice)
    logged_in_at = clock.now()
    advance_to(clock, logged_in_at + REFRESH_TOKEN_TTL + clock.tolerance)
    response = target.refresh(session.refresh_token)
    expect_error(response, 401, "invalid_token", f"POST /auth/refresh with a refresh token {REFRESH_TOKEN_TTL} s old")


@requirement("BSK-TOK-007")
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
