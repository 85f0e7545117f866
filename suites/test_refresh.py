"""Contract §3, §4 — Refresh tokens: rotation, families, logout.

   "Refresh token: opaque or JWT (implementation's choice); lifetime 604 800 s;
    single use (rotation): using it returns a new pair and invalidates it;
    presenting an already-rotated token SHOULD revoke the whole token family.
    An access token is never accepted as a refresh token, nor the reverse."
   "POST /auth/refresh {refreshToken}: 200, same shape as login, with a new
    refresh token; 401 invalid_token for expired, revoked, already-rotated or
    malformed refresh tokens."
   "POST /auth/logout {refreshToken}: bearer, 204: the refresh token is revoked."

A refresh token may be opaque or a JWT (§8): nothing here reads inside one.
A malformed refresh body may get 400 or 401 (§8). Rotation to a different
token is BSK-TOK-007, the 604 800 s lifetime BSK-TOK-005 and BSK-TOK-006.
Every check starts from its own login, so each spends only its own family.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from bsk_conformance.harness.api import (
    REFRESH_TOKEN_TTL,
    PreconditionFailed,
    advance_to,
    expect,
    expect_error,
    expect_json_object,
    expect_status,
    not_verified,
    requirement,
)

from ._attacks import vectors

PARALLEL = 5


def _refreshed(target, refresh_token: str, context: str) -> dict:
    """A refresh that must succeed, as a step of a larger check: the new pair."""
    response = target.refresh(refresh_token)
    expect_status(response, 200, context=context)
    body = expect_json_object(response, context)
    for name in ("accessToken", "refreshToken"):
        expect(isinstance(body.get(name), str), f"a string {name}", f"fields {sorted(body)}", context)
    return body


def _precondition_refresh(target, refresh_token: str, what: str) -> dict:
    """A refresh the check needs to get where it is going; failing it is not this rule's verdict."""
    response = target.refresh(refresh_token)
    if response.status_code != 200:
        raise PreconditionFailed(f"the target refused {what}", response)
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("refreshToken"), str):
        raise PreconditionFailed(f"the target answered {what} without a refreshToken", response)
    return body


@requirement("BSK-REF-001")
def test_rotated_refresh_token_is_refused(user, target):
    rotated = user.refresh_token
    body = _refreshed(target, rotated, "first POST /auth/refresh (rotation)")
    user.refresh_token = body["refreshToken"]
    with target.evidence.note("the rotated refresh token, presented again"):
        response = target.refresh(rotated)
    expect_error(response, 401, "invalid_token", "POST /auth/refresh with an already-rotated refresh token")


@requirement("BSK-REF-002")
def test_reusing_a_rotated_token_revokes_the_family(user, target):
    rotated = user.refresh_token
    newest = _precondition_refresh(target, rotated, "the first rotation of a fresh refresh token")["refreshToken"]
    user.refresh_token = newest
    with target.evidence.note("reuse: the rotated refresh token, presented again"):
        target.refresh(rotated)
    with target.evidence.note("the family's newest refresh token, after the reuse"):
        response = target.refresh(newest)
    expect_error(response, 401, "invalid_token",
                 "POST /auth/refresh with the newest token of a family whose rotated token was reused")


@requirement("BSK-REF-003")
def test_parallel_refreshes_with_one_token_succeed_at_most_once(user, target):
    token = user.refresh_token
    start = threading.Barrier(PARALLEL)

    def refresh_once(_: int):
        start.wait(timeout=10)
        return target.refresh(token)

    with target.evidence.note(f"one refresh token, {PARALLEL} refreshes at once"):
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            responses = list(pool.map(refresh_once, range(PARALLEL)))
    winners = [r for r in responses if r.status_code == 200]
    if winners:
        user.refresh_token = winners[0].json().get("refreshToken", user.refresh_token)
    context = f"{PARALLEL} parallel POST /auth/refresh with one refresh token"
    expect(len(winners) <= 1, "at most one HTTP 200", f"{len(winners)} answers HTTP 200", context)
    for response in responses:
        if response.status_code != 200:
            expect_error(response, 401, "invalid_token", f"{context}: a refresh that lost the race")


@requirement("BSK-REF-004")
def test_rotation_does_not_extend_the_refresh_lifetime(two_factor_registry, alice, clock, target):
    if not clock.can_advance(REFRESH_TOKEN_TTL + 2 * clock.tolerance):
        not_verified(f"needs the target's time moved by {REFRESH_TOKEN_TTL} s (7 days)")
    before_login = clock.now()
    session = two_factor_registry.login(alice)
    after_login = clock.now()
    # rotate on day 6, and again a moment before the original 7 days are up:
    # each rotation is still in time, so each new token is a working one
    advance_to(clock, before_login + 6 * 86_400)
    second = _precondition_refresh(target, session.refresh_token, "a rotation on day 6")["refreshToken"]
    advance_to(clock, before_login + REFRESH_TOKEN_TTL - 1 - clock.tolerance)
    third = _precondition_refresh(target, second, "a rotation 1 s before the original 604 800 s")["refreshToken"]
    advance_to(clock, after_login + REFRESH_TOKEN_TTL + clock.tolerance)
    with target.evidence.note("a refresh token from a rotation, 604 800 s after the original login"):
        response = target.refresh(third)
    expect_error(response, 401, "invalid_token",
                 "POST /auth/refresh with a token rotated 1 s before the session's 604 800 s, presented after them")


@requirement("BSK-REF-005")
def test_logout_revokes_the_refresh_token(user, target):
    response = user.logout()
    expect_status(response, 204, context="POST /auth/logout with the session's refresh token")
    with target.evidence.note("the refresh token, after logout"):
        response = target.refresh(user.refresh_token)
    expect_error(response, 401, "invalid_token", "POST /auth/refresh with a refresh token after logout")


@requirement("BSK-REF-006")
def test_refresh_token_is_not_accepted_as_a_bearer_token(user, target):
    with target.evidence.note("a refresh token presented as a bearer token"):
        response = target.get("/me", bearer=user.refresh_token)
    expect_error(response, 401, context="GET /me with a refresh token as the bearer token")


@requirement("BSK-REF-007")
def test_access_token_is_not_accepted_as_a_refresh_token(user, target):
    with target.evidence.note("an access token presented as a refresh token"):
        response = target.refresh(user.access_token)
    expect_error(response, 401, "invalid_token", "POST /auth/refresh with an access token as the refresh token")


@requirement("BSK-REF-008")
def test_malformed_refresh_body_gets_400_or_401(target):
    answers = []
    for vector in vectors("refresh")["malformed_bodies"]:
        with target.evidence.note(f"malformed refresh body: {vector['label']}"):
            if "raw" in vector:
                response = target.post("/auth/refresh", content=vector["raw"].encode("utf-8"),
                                       headers={"Content-Type": "application/json"})
            else:
                response = target.post("/auth/refresh", json=vector["json"])
        answers.append((vector["label"], response))
    for label, response in answers:
        context = f"POST /auth/refresh with {label}"
        expect_status(response, 400, 401, context=context)
        expect_error(response, response.status_code, context=context)


@requirement("BSK-REF-009")
def test_unknown_refresh_token_gets_401_invalid_token(target):
    answers = []
    for vector in vectors("refresh")["garbage_tokens"]:
        with target.evidence.note(f"garbage refresh token: {vector['label']}"):
            answers.append((vector["label"], target.refresh(vector["token"])))
    for label, response in answers:
        expect_error(response, 401, "invalid_token", f"POST /auth/refresh with {label} as the refresh token")


@requirement("BSK-REF-010")
def test_refreshed_pair_works(user, target):
    before = user.get("/me")
    if before.status_code != 200:
        raise PreconditionFailed("the target refused the access token of a fresh login on GET /me", before)
    first = _refreshed(target, user.refresh_token, "POST /auth/refresh")
    user.access_token, user.refresh_token = first["accessToken"], first["refreshToken"]
    with target.evidence.note("the refreshed access token"):
        after = user.get("/me")
    context = "GET /me with the access token a refresh returned"
    expect_status(after, 200, context=context)
    who, again = expect_json_object(before, "GET /me"), expect_json_object(after, context)
    for name in ("userId", "organizationId"):
        expect(again.get(name) == who.get(name), f"the same {name} as before the refresh",
               "a different one", context)
    with target.evidence.note("the refreshed refresh token, used in turn"):
        second = _refreshed(target, user.refresh_token, "POST /auth/refresh with the refresh token a refresh returned")
    user.refresh_token = second["refreshToken"]
