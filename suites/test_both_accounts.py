"""Contract §1, §3, §4, §5 — Both accounts at once (issue 22, class 6).

   "Key properties: ... scoped to a single organization"
   "If the user has 2FA enabled, login must include twoFactorCode"
   "Refresh token: single use (rotation): using it returns a new pair and invalidates it"
   "Limits are per key, not per organization."

Some state only goes wrong when both accounts are in it together: a 2FA store
that keeps one secret, keys found by their name, refresh families or rate
buckets keyed by something the two accounts share. Each check puts alice and
bob (two organizations, contract §7) in the same state at once and shows that
each account's credentials work for it alone. Without a second account in
another organization the `bob` and `other_user` fixtures make them not
verified. Whatever a check turns on (2FA) is turned off again after it; keys
go through `resources`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyotp
import pytest

from bsk_conformance.harness.api import (
    TOTP_STEP,
    Account,
    PreconditionFailed,
    UserSession,
    disable_two_factor,
    enable_two_factor,
    expect,
    expect_error,
    expect_json_object,
    expect_status,
    not_verified,
    organization_of,
    requirement,
)

from ._token_pairs import log_out_answer

# -- 2FA on for both ---------------------------------------------------------------


@pytest.fixture
def both_with_two_factor(two_factor, alice, bob, two_factor_registry) -> Iterator[list[tuple[Account, str]]]:
    """(account, secret) of both accounts with 2FA on: the `two_factor` fixture's
    account, then the other one, turned on here after it (and off again after
    the check, before the fixture's own) unless the profile gave it a secret."""
    first = two_factor.account
    other = bob if first.email != bob.email else alice
    secret = two_factor_registry.secret(other)
    turned_on = secret is None
    if turned_on:
        secret = enable_two_factor(two_factor_registry, other)
    yield [(first, two_factor.secret), (other, secret)]
    if turned_on and two_factor_registry.secret(other) is not None:
        disable_two_factor(two_factor_registry, other, secret, cleanup=True)


def _foreign_code(registry, account: Account, own: str, foreign: str) -> str:
    """A current code of `foreign` that is no code of `own` near now (±1 step), with
    the account's step marked spent first: a target that takes it for the
    account's own code spends that step, and the harness's next code must move on."""
    now = registry.now()
    step = int(now // TOTP_STEP)
    code = pyotp.TOTP(foreign).at(now)
    if code in {pyotp.TOTP(own).generate_otp(step + offset) for offset in (-1, 0, 1)}:
        not_verified("the two secrets give the same code now (one chance in 333 333): nothing to tell apart")
    registry.spend(account, step + 1)
    return code


@requirement("BSK-PAIR-001")
def test_with_two_factor_on_for_both_each_code_logs_in_its_own_account_only(both_with_two_factor,
                                                                             two_factor_registry, target):
    (first, first_secret), (second, second_secret) = both_with_two_factor
    for account, secret in ((first, first_secret), (second, second_secret)):
        response = target.login(account, two_factor_registry.next_code(account, secret))
        expect_status(response, 200, context=f"login of {account.email} with a current code of its own secret, "
                                            "while the other account has 2FA on too")
        log_out_answer(target, response)
    for account, own, foreign in ((first, first_secret, second_secret), (second, second_secret, first_secret)):
        response = target.login(account, _foreign_code(two_factor_registry, account, own, foreign))
        if response.status_code == 200:
            log_out_answer(target, response)
        if response.status_code == 429:
            not_verified("the login throttle answered 429 to the one foreign code (§8: any threshold)")
        expect_error(response, 401, "invalid_two_factor_code",
                     f"login of {account.email} with a current code of the other account's secret")


# -- keys of the same name and scopes --------------------------------------------------

SCOPES = ["projects:read"]


def _twin_keys(resources, user: UserSession, other_user: UserSession, **options) -> tuple[dict, dict]:
    """A key in each organization, same name and scopes, alice's made first."""
    name = resources.unique_name("twin")
    return (resources.create_key(user, scopes=SCOPES, name=name, **options),
            resources.create_key(other_user, scopes=SCOPES, name=name, **options))


def _listed_ids(session: UserSession) -> set[str]:
    response = session.get("/api-keys")
    expect_status(response, 200, context=f"GET /api-keys as {session.account.email}")
    data = expect_json_object(response, "GET /api-keys").get("data")
    expect(isinstance(data, list), "a data list", type(data).__name__, "GET /api-keys")
    return {item.get("id") for item in data if isinstance(item, dict)}


@requirement("BSK-PAIR-002")
def test_keys_of_the_same_name_and_scopes_act_in_their_own_organization_only(user, other_user, resources,
                                                                            target):
    keys = _twin_keys(resources, user, other_user)
    owners = (user, other_user)
    for created, owner in zip(keys, owners):
        context = f"GET /me with {owner.account.email}'s key, named like a key of the other organization"
        response = target.get("/me", api_key=created["key"])
        expect_status(response, 200, context=context)
        identity = expect_json_object(response, context)
        seen = (identity.get("keyId"), identity.get("organizationId"))
        wanted = (created["id"], organization_of(owner))
        expect(seen == wanted, f"keyId and organizationId {wanted}", f"{seen}", context)
    for own, other, owner in ((keys[0], keys[1], user), (keys[1], keys[0], other_user)):
        listed = _listed_ids(owner)
        context = f"GET /api-keys as {owner.account.email}, with a key of the same name in the other organization"
        expect(own["id"] in listed and other["id"] not in listed, "its own key listed, the other's not",
               f"own listed: {own['id'] in listed}, other's listed: {other['id'] in listed}", context)


# -- refresh families of both ---------------------------------------------------------------


def _rotated(target, refresh_token: str, owner: Account, what: str) -> dict:
    response = target.refresh(refresh_token)
    if response.status_code != 200:
        raise PreconditionFailed(f"the target refused {what}", response)
    body = expect_json_object(response, f"POST /auth/refresh for {owner.email}")
    me = target.get("/me", bearer=body.get("accessToken"))
    expect_status(me, 200, context=f"GET /me with the access token of {what}")
    email = expect_json_object(me, "GET /me").get("email")
    expect(isinstance(email, str) and email.lower() == owner.email.lower(), f"the pair of {owner.email}",
           f"a pair of {email}", f"{what}, with the other account rotating too")
    return body


@requirement("BSK-PAIR-003")
def test_reusing_one_accounts_rotated_token_leaves_the_others_family_working(two_factor_registry, alice, bob,
                                                                              target):
    first, second = two_factor_registry.login(alice), two_factor_registry.login(bob)
    rotated_first = _rotated(target, first.refresh_token, alice, f"{alice.email}'s first rotation")
    rotated_second = _rotated(target, second.refresh_token, bob, f"{bob.email}'s first rotation")
    reuse = target.refresh(first.refresh_token)
    expect_error(reuse, 401, "invalid_token", f"{alice.email}'s rotated refresh token presented again")
    response = target.refresh(rotated_second["refreshToken"])
    expect_status(response, 200, context=f"{bob.email}'s current refresh token, after {alice.email}'s rotated "
                                        "token was presented again")
    log_out_answer(target, response)
    target.post("/auth/logout", bearer=rotated_first.get("accessToken"),
                json={"refreshToken": rotated_first.get("refreshToken")})


# -- rate limits of both --------------------------------------------------------------------

LIMIT = 3


@requirement("BSK-PAIR-004")
def test_keys_of_the_same_name_in_two_organizations_have_their_own_rate_limits(user, other_user, resources,
                                                                              target):
    """Both keys are used in turn, one request each, so both near their limit
    together: request i of each is admitted up to LIMIT, then 429."""
    keys = _twin_keys(resources, user, other_user, rate_limit=LIMIT)
    owners = (user.account.email, other_user.account.email)
    for turn in range(1, LIMIT + 2):
        for created, owner in zip(keys, owners):
            response = target.get("/me", api_key=created["key"])
            context = (f"GET /me, request {turn} of {owner}'s key (rateLimit {LIMIT}), used in turn with a key of "
                       "the same name in the other organization")
            if turn <= LIMIT:
                expect_status(response, 200, context=context)
            else:
                expect_error(response, 429, "rate_limited", context)
