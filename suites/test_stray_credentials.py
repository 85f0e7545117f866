"""Contract §1, §3, §4 — Credentials where none should be.

   "if the user has 2FA enabled, login must include twoFactorCode; without it the response
    is 401 saying 2FA verification is required"
   "the full key is shown only once, at creation"
   "POST /auth/logout {refreshToken}: 204; the refresh token is revoked"

The contract puts a credential in three answers only: the token pair of login
and refresh, and the key of `POST /api-keys`. Every answer of the run is
watched (suites/_stray_credentials.py, a `leaks` run only): a string shaped
like a token or a key anywhere else, in a body or a header, is tried against
`GET /me` as a bearer token and as `X-API-Key` (and, if nobody holds it yet,
`POST /auth/refresh`) right after the check that saw it. One that works fails
the rule of the answer that carried it. Each check below also provokes the
answers of its rule itself, so that it has something to judge when run alone,
and runs last, to judge every finding of the run.
"""

from __future__ import annotations

import pytest

from bsk_conformance.harness.api import (
    ACCESS_TOKEN_TTL,
    Account,
    ClockStrategy,
    advance_to,
    expect,
    requirement,
)

from ._keys import lookalike_id
from ._stray_credentials import (
    ERROR_ANSWER,
    LOGIN_REFUSED,
    LOGOUT_ANSWER,
    OTHER_SUCCESS,
    StrayCredentialScanner,
    describe_findings,
)
from ._wire import tampered, unknown_key


def _judge(scanner: StrayCredentialScanner, target, rule: str, provoked: str) -> None:
    scanner.trial(target)
    if scanner.problems:
        raise RuntimeError(f"the stray-credential scanner failed: {scanner.problems[0]}")
    found = scanner.of_rule(rule)
    expect(not found, "no token or key that authenticates, in the body or a header of such an answer",
           f"{len(found)} did: {describe_findings(found)}",
           f"{provoked}, and every such answer of the run ({scanner.trials} strings tried)")


@requirement("BSK-LEAK-001")
@pytest.mark.runs_last
def test_no_401_answer_to_login_holds_a_working_credential(two_factor, target, whole_run_stray_credentials):
    # the wrong password goes to the profile's last account, which other checks use least
    # (one failure: far from any login throttle), as BSK-EP-009 does
    last = target.profile.accounts[-1]
    with target.evidence.note("a wrong password"):
        target.login(Account(last.email, last.password + "-x"))
    with target.evidence.note("a 2FA user without twoFactorCode"):
        target.login(two_factor.account)
    with target.evidence.note("a 2FA user with a wrong code"):
        target.login(two_factor.account, two_factor.wrong_code())
    _judge(whole_run_stray_credentials, target, LOGIN_REFUSED,
           "a wrong password, a 2FA challenge and a wrong code")


@requirement("BSK-LEAK-002")
@pytest.mark.runs_last
def test_no_error_answer_holds_a_working_credential(user, two_factor_registry, alice, resources, target,
                                                   clock: ClockStrategy, whole_run_stray_credentials, early_login):
    key = resources.create_key(user, scopes=[])["key"]
    provoke = {
        "a tampered bearer token": lambda: target.get("/me", bearer=tampered(user.access_token)),
        "an unknown key": lambda: target.get("/me", api_key=unknown_key(target)),
        "an unknown refresh token": lambda: target.refresh("rt_" + "Z" * 43),
        "a key without organization:read": lambda: target.get("/organization", api_key=key),
        "a key on a user-only endpoint": lambda: target.get("/api-keys", api_key=key),
        "another id's project": lambda: user.get(f"/projects/{lookalike_id('prj_' + '0' * 32)}"),
        "a rate limit of 0": lambda: resources.create_key_response(user, name=resources.unique_name(), scopes=[],
                                                                  rateLimit=0),
    }
    for what, send in provoke.items():
        with target.evidence.note(what):
            send()
    session = two_factor_registry.login(alice)
    with target.evidence.note("a refresh token already rotated"):
        target.refresh(session.refresh_token)
        target.refresh(session.refresh_token)
    provoked = "401s, 403s, a 404 and a 400 of every kind"
    # an expired access token: the 401 a server "helpfully" answers with a renewed one. On a
    # real clock the token is the one this process logged in with as it began (`early_login`),
    # by now past its life or nearly: waiting for a fresh one would add 15 minutes to the run.
    # Its age is counted from the harness's own reading before that login, not from its `iat`.
    life = ACCESS_TOKEN_TTL + clock.tolerance
    expiring, expired_at = None, 0.0
    if early_login is not None and clock.can_advance(max(0.0, early_login.before + life - clock.now())):
        expiring, expired_at = early_login.session, early_login.before + life
    elif clock.can_advance(life):
        expired_at = clock.now() + life
        expiring = two_factor_registry.login(alice)
    if expiring is not None:
        advance_to(clock, expired_at)
        with target.evidence.note("an expired access token"):
            expiring.get("/me")
        provoked += ", and an expired access token"
    _judge(whole_run_stray_credentials, target, ERROR_ANSWER, provoked)


@requirement("BSK-LEAK-003")
@pytest.mark.runs_last
def test_logout_answer_holds_no_working_credential(two_factor_registry, alice, target, whole_run_stray_credentials):
    session = two_factor_registry.login(alice)
    with target.evidence.note("POST /auth/logout"):
        session.logout()
    _judge(whole_run_stray_credentials, target, LOGOUT_ANSWER, "a logout")


@requirement("BSK-LEAK-004")
@pytest.mark.runs_last
def test_success_answers_hold_credentials_only_where_the_contract_puts_them(user, resources, target,
                                                                          whole_run_stray_credentials):
    created = resources.create_key(user, scopes=["organization:read", "projects:read"])
    project = resources.create_project(user)
    for path in ("/me", "/organization", "/projects", f"/projects/{project['id']}", "/api-keys",
                 f"/api-keys/{created['id']}"):
        user.get(path)
    target.get("/me", api_key=created["key"])
    target.refresh(user.refresh_token)
    _judge(whole_run_stray_credentials, target, OTHER_SUCCESS,
           "/me, /organization, projects and keys read and created, and a refresh")
