"""Contract §1, §3 — Two-factor authentication (TOTP, RFC 6238).

   "if the user has 2FA enabled, login must include twoFactorCode; without it
    the response is 401 saying 2FA verification is required"

A server accepts each TOTP step at most once, so every code the harness sends
after the first comes from a fresh step: the clock moves 30 s before it.
Accounts end as they started: 2FA turned on here is turned off again.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from harness.expect import expect, expect_error, expect_json_object, expect_status
from harness.profile import Account
from harness.verdicts import not_verified

TOKENS = ("accessToken", "refreshToken")


def _without_two_factor(target) -> Account:
    for account in target.profile.accounts:
        if not account.totp_secret:
            return account
    not_verified("every profile account has 2FA on: enabling it cannot be shown")


@pytest.mark.requirement("BSK-TFA-001")
def test_login_without_code_is_401_two_factor_required(two_factor, target):
    response = target.login(two_factor.account)
    body = expect_error(response, 401, "two_factor_required", "login of a 2FA user without twoFactorCode")
    leaked = [name for name in TOKENS if name in body]
    expect(not leaked, "no tokens", f"fields {leaked}", "login of a 2FA user without twoFactorCode")


@pytest.mark.requirement("BSK-TFA-002")
def test_wrong_code_is_401_invalid_two_factor_code(two_factor, target):
    response = target.login(two_factor.account, two_factor.wrong_code())
    expect_error(response, 401, "invalid_two_factor_code", "login of a 2FA user with a wrong code")


@pytest.mark.requirement("BSK-TFA-003")
def test_valid_totp_code_logs_in(two_factor, target):
    response = target.login(two_factor.account, two_factor.fresh_code())
    expect_status(response, 200, context="login of a 2FA user with a current RFC 6238 code")
    body = expect_json_object(response, "login with a 2FA code")
    missing = [name for name in TOKENS if not isinstance(body.get(name), str)]
    expect(not missing, "accessToken and refreshToken", f"missing {missing}", "login with a 2FA code")


@pytest.mark.requirement("BSK-TFA-004")
def test_replayed_code_is_refused(two_factor, target):
    code = two_factor.fresh_code()
    first = target.login(two_factor.account, code)
    expect_status(first, 200, context="first login with a fresh code")
    replay = target.login(two_factor.account, code)
    expect_error(replay, 401, "invalid_two_factor_code", "second login with the same code")


@pytest.mark.requirement("BSK-TFA-005")
def test_setup_and_enable_turn_two_factor_on(target, clock, two_factor_registry):
    account = _without_two_factor(target)
    if not clock.can_advance(120):
        not_verified("needs the clock moved by whole TOTP steps (30 s) to turn 2FA off again afterwards")
    session = two_factor_registry.login(account)
    setup = session.post("/auth/2fa/setup")
    expect_status(setup, 200, context="POST /auth/2fa/setup")
    body = expect_json_object(setup, "2FA setup answer")
    secret, uri = body.get("secret"), body.get("otpauthUri")
    expect(isinstance(secret, str) and isinstance(uri, str), "secret and otpauthUri strings",
           f"fields {sorted(body)}", "2FA setup answer")
    target.evidence.redactor.register(secret, "totp-secret")
    _expect_rfc6238_uri(uri, secret)

    enable = session.post("/auth/2fa/enable", json={"code": two_factor_registry.next_code(account, secret)})
    expect_status(enable, 204, context="POST /auth/2fa/enable with a current code")
    two_factor_registry.set(account, secret)
    try:
        response = target.login(account)
        expect_error(response, 401, "two_factor_required", "login right after 2FA was enabled, without a code")
    finally:
        _disable(two_factor_registry, account, secret)


def _expect_rfc6238_uri(uri: str, secret: str) -> None:
    parts = urlsplit(uri)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    context = "otpauthUri"
    expect(parts.scheme == "otpauth" and parts.netloc == "totp", "an otpauth://totp/ URI", f"{parts.scheme}://{parts.netloc}/…", context)
    expect(query.get("secret", "").upper() == secret.upper(), "the secret parameter equal to secret", "a different or missing secret", context)
    expect(query.get("algorithm", "SHA1").upper() == "SHA1", "algorithm SHA1", query.get("algorithm"), context)
    expect(query.get("digits", "6") == "6", "6 digits", query.get("digits"), context)
    expect(query.get("period", "30") == "30", "a 30 s period", query.get("period"), context)


def _disable(registry, account: Account, secret: str) -> None:
    session = registry.login(account)
    response = session.post("/auth/2fa/disable", json={"code": registry.next_code(account, secret)})
    if response.status_code != 204:
        raise AssertionError(f"could not turn 2FA off again for {account.email}: HTTP {response.status_code}")
    registry.set(account, None)


@pytest.mark.requirement("BSK-TFA-006")
def test_disable_with_valid_code_turns_two_factor_off(two_factor, two_factor_registry, target):
    if not two_factor.managed:
        not_verified("the only 2FA account is the profile's own: turning it off would lose its secret")
    session = two_factor_registry.login(two_factor.account)
    response = session.post("/auth/2fa/disable", json={"code": two_factor.fresh_code()})
    expect_status(response, 204, context="POST /auth/2fa/disable with a current code")
    two_factor_registry.set(two_factor.account, None)
    login = target.login(two_factor.account)
    expect_status(login, 200, context="login without a code after 2FA was disabled")


@pytest.mark.requirement("BSK-TFA-007")
def test_wrong_password_for_two_factor_user_is_invalid_credentials(two_factor, target):
    wrong = Account(two_factor.account.email, two_factor.account.password + "-wrong")
    response = target.login(wrong)
    expect_error(response, 401, "invalid_credentials", "login of a 2FA user with a wrong password and no code")
