"""Contract §1, §3 — Two-factor authentication (TOTP, RFC 6238).

   "if the user has 2FA enabled, login must include twoFactorCode; without it
    the response is 401 saying 2FA verification is required"

   "POST /auth/2fa/disable {code} → 204"; statuses of 2FA management errors
    are any 4xx (§8); "Login SHOULD be throttled per account after repeated
    failures (429 with Retry-After)" (§5), wrong codes included.

A server accepts each TOTP step at most once, so every code the harness sends
after the first comes from a fresh step: the clock moves 30 s before it.
Accounts end as they started: 2FA turned on here is turned off again, and an
account locked by failed logins is waited out and logged in again (`lockouts`).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from bsk_conformance.harness.api import (
    TOTP_STEP,
    Account,
    describe,
    disable_two_factor,
    enable_two_factor,
    expect,
    expect_error,
    expect_fields,
    expect_json_object,
    expect_status,
    not_verified,
    requirement,
)

from ._lockout import Lockouts, expect_throttled

TOKENS = ("accessToken", "refreshToken")


def _without_two_factor(target) -> Account:
    for account in target.profile.accounts:
        if not account.totp_secret:
            return account
    not_verified("every profile account has 2FA on: enabling it cannot be shown")


@pytest.fixture
def spare_account(target, clock, two_factor_registry) -> Iterator[Account]:
    """A profile account without 2FA that the `two_factor` fixture does not use
    (it takes the first), so a fault left behind by that fixture's cleanup
    cannot hide here; 2FA turned on for it is turned off again afterwards."""
    candidates = [a for a in target.profile.accounts if not a.totp_secret]
    if not candidates:
        not_verified("every profile account has 2FA on: turning it on and off cannot be shown")
    if not clock.can_advance(120):
        not_verified("needs the clock moved by whole TOTP steps (30 s) to turn 2FA on and off")
    account = (candidates[1:] or candidates)[0]
    yield account
    secret = two_factor_registry.secret(account)
    if secret is not None:
        disable_two_factor(two_factor_registry, account, secret, cleanup=True)
        # a disable that answers 204 and leaves 2FA on would strand the account: say so here
        two_factor_registry.login(account).logout()


@pytest.fixture
def own_two_factor(request: pytest.FixtureRequest, target, two_factor_registry) -> tuple[Account, str]:
    """An account with 2FA on that no other check's cleanup has touched, and
    its secret: the profile's own 2FA account, else the spare account with
    2FA turned on here (and off again by `spare_account`). A server that
    refuses valid codes then fails the check that shows it, rather than the
    `two_factor` fixture's cleanup of some earlier check."""
    for account in target.profile.accounts:
        if account.totp_secret:
            return account, account.totp_secret
    account = request.getfixturevalue("spare_account")
    return account, enable_two_factor(two_factor_registry, account)


@requirement("BSK-TFA-001")
def test_login_without_code_is_401_two_factor_required(two_factor, target):
    response = target.login(two_factor.account)
    body = expect_error(response, 401, "two_factor_required", "login of a 2FA user without twoFactorCode")
    leaked = [name for name in TOKENS if name in body]
    expect(not leaked, "no tokens", f"fields {leaked}", "login of a 2FA user without twoFactorCode")


@requirement("BSK-TFA-002")
def test_wrong_code_is_401_invalid_two_factor_code(two_factor, target):
    response = target.login(two_factor.account, two_factor.wrong_code())
    expect_error(response, 401, "invalid_two_factor_code", "login of a 2FA user with a wrong code")


@requirement("BSK-TFA-003")
def test_valid_totp_code_logs_in(own_two_factor, two_factor_registry, target):
    account, secret = own_two_factor
    response = target.login(account, two_factor_registry.next_code(account, secret))
    expect_status(response, 200, context="login of a 2FA user with a current RFC 6238 code")
    body = expect_json_object(response, "login with a 2FA code")
    missing = [name for name in TOKENS if not isinstance(body.get(name), str)]
    expect(not missing, "accessToken and refreshToken", f"missing {missing}", "login with a 2FA code")


@requirement("BSK-TFA-004")
def test_replayed_code_is_refused(two_factor, target):
    code = two_factor.fresh_code()
    first = target.login(two_factor.account, code)
    expect_status(first, 200, context="first login with a fresh code")
    replay = target.login(two_factor.account, code)
    expect_error(replay, 401, "invalid_two_factor_code", "second login with the same code")


@requirement("BSK-TFA-005")
def test_setup_and_enable_turn_two_factor_on(request, target, clock, two_factor_registry):
    account = _without_two_factor(target)
    if not clock.can_advance(120):
        not_verified("needs the clock moved by whole TOTP steps (30 s) to turn 2FA off again afterwards")
    session = two_factor_registry.login(account)
    setup = session.post("/auth/2fa/setup")
    expect_status(setup, 200, context="POST /auth/2fa/setup")
    body = expect_json_object(setup, "2FA setup answer")
    secret, uri = body.get("secret"), body.get("otpauthUri")
    expect(
        isinstance(secret, str) and isinstance(uri, str),
        "secret and otpauthUri strings",
        f"fields {sorted(body)}",
        "2FA setup answer",
    )
    target.secret(secret, "totp-secret")
    _expect_rfc6238_uri(uri, secret)

    enable = session.post("/auth/2fa/enable", json={"code": two_factor_registry.next_code(account, secret)})
    expect_status(enable, 204, context="POST /auth/2fa/enable with a current code")
    two_factor_registry.set(account, secret)
    # turned off again in the teardown phase: a refused disable is a cleanup failure, not this rule's verdict
    request.addfinalizer(lambda: disable_two_factor(two_factor_registry, account, secret, cleanup=True))
    response = target.login(account)
    expect_error(response, 401, "two_factor_required", "login right after 2FA was enabled, without a code")


def _expect_rfc6238_uri(uri: str, secret: str) -> None:
    parts = urlsplit(uri)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    context = "otpauthUri"
    expect(
        parts.scheme == "otpauth" and parts.netloc == "totp",
        "an otpauth://totp/ URI",
        f"{parts.scheme}://{parts.netloc}/…",
        context,
    )
    expect(
        query.get("secret", "").upper() == secret.upper(),
        "the secret parameter equal to secret",
        "a different or missing secret",
        context,
    )
    expect(query.get("algorithm", "SHA1").upper() == "SHA1", "algorithm SHA1", query.get("algorithm"), context)
    expect(query.get("digits", "6") == "6", "6 digits", query.get("digits"), context)
    expect(query.get("period", "30") == "30", "a 30 s period", query.get("period"), context)


@requirement("BSK-TFA-006")
def test_disable_with_valid_code_turns_two_factor_off(spare_account, two_factor_registry, target):
    """On an account of its own rather than the `two_factor` fixture's: a
    disable that answers 204 and does nothing must show here, not only as
    the fixture's cleanup quietly leaving 2FA on."""
    account = spare_account
    secret = enable_two_factor(two_factor_registry, account)
    disable_two_factor(two_factor_registry, account, secret)
    login = target.login(account)
    expect_status(login, 200, context="login without a code after 2FA was disabled")


@requirement("BSK-TFA-007")
def test_wrong_password_for_two_factor_user_is_invalid_credentials(two_factor, target):
    wrong = Account(two_factor.account.email, two_factor.account.password + "-wrong")
    response = target.login(wrong)
    expect_error(response, 401, "invalid_credentials", "login of a 2FA user with a wrong password and no code")


# -- beyond the documented flows: malformed codes, guessing, disabling ------

# a JSON number is as malformed as the wrong digits
MALFORMED_CODES: dict[str, str | int] = {
    "letters": "12ab56",
    "seven digits": "1234567",
    "empty": "",
    "a JSON number": 123456,
}
# Wrong codes tried before concluding that guessing is not throttled (§8: any threshold).
MAX_GUESSES = 20


@requirement("BSK-TFA-008")
def test_malformed_code_is_400_or_401_never_5xx(two_factor, lockouts, target):
    """Each malformed code is a failed login to a throttle: a 429 is waited out
    and the code sent again, so the throttle (§8 latitude) never decides."""
    account = two_factor.account
    lockouts.watch(account)
    for label, code in MALFORMED_CODES.items():
        body = {"email": account.email, "password": account.password, "twoFactorCode": code}
        context = f"login of a 2FA user with a malformed twoFactorCode ({label})"
        response = target.post("/auth/login", json=body)
        if response.status_code == 429:
            if not lockouts.wait_out(response):
                not_verified("the login throttle answered 429 and the clock cannot move past its Retry-After")
            response = target.post("/auth/login", json=body)
            if response.status_code == 429:
                not_verified(f"the login throttle answered 429 to the {label} code even after its Retry-After")
        expect_status(response, 400, 401, context=context)
        expect_error(response, response.status_code, context=context)


@requirement("BSK-TFA-009")
def test_guessing_codes_is_throttled(lock_can_be_waited_out, two_factor, lockouts, target):
    """Locks the 2FA account on purpose, then waits the lock out on the
    target's clock and proves it logs in again (the `lockouts` fixture)."""
    account = two_factor.account
    lockouts.watch(account)
    attempts = (target.login(account, code) for code in two_factor.wrong_codes(MAX_GUESSES))
    expect_throttled(attempts, limit=MAX_GUESSES, tried="logins with wrong 2FA codes", subject=account.email)


@requirement("BSK-TFA-010")
def test_disable_with_a_wrong_code_is_refused_and_two_factor_stays_on(two_factor, two_factor_registry):
    if not two_factor.managed:
        not_verified(
            "the only 2FA account is the profile's own: if a wrong code turned 2FA off, its secret would be lost"
        )
    account = two_factor.account
    session = two_factor_registry.login(account)
    response = session.post("/auth/2fa/disable", json={"code": two_factor.wrong_code()})
    me = session.get("/me")
    expect_status(me, 200, context="GET /me after POST /auth/2fa/disable with a wrong code")
    identity = expect_json_object(me, "GET /me")
    expect_fields(identity, {"twoFactorEnabled": bool}, "GET /me of a user")
    if identity["twoFactorEnabled"] is False:
        two_factor_registry.set(account, None)  # it is off: the fixture has nothing left to turn off
    context = "POST /auth/2fa/disable with a wrong code"
    expect(400 <= response.status_code < 500, "a 4xx (any, §8)", describe(response), context)
    expect_error(response, response.status_code, context=context)
    expect(
        identity["twoFactorEnabled"] is True,
        "2FA still on (GET /me twoFactorEnabled: true)",
        "twoFactorEnabled: false",
        "GET /me after a disable with a wrong code",
    )


# -- how far from now a code is still accepted (RFC 6238 §5.2) -----------------

# "We RECOMMEND that at most one time step is allowed as the network delay":
# a code this many steps behind or ahead of the target's current step SHOULD be refused
FAR_STEPS = 2
# the codes are sent this far past a step boundary, so that a clock that keeps
# ticking (§8) cannot carry the target into the next step while they are judged
BOUNDARY_MARGIN = 5.0
# clocks that tell the target's own notion of now (§6), which TOTP steps are counted from (§8)
TARGET_CLOCKS = ("frozen", "control")
# a far step whose code equals the code of a step the target may accept (±1)
# is skipped for the next one out: a coincidence, one chance in 333 333
_FALLBACKS = (0, 1, 2)



def _clear_step(clock, registry, account: Account) -> int:
    """Move the target's clock to the start (plus a margin) of a step whose far
    neighbours behind it are all later than any step this run may have spent
    for the account: a server that accepts each step once must not refuse an
    old code for having seen a later one, or a wide window would go unseen."""
    now = clock.now()
    wanted = int(now // TOTP_STEP) + 1
    last = registry.last_step(account)
    if last is not None:
        wanted = max(wanted, last + FAR_STEPS + len(_FALLBACKS) + 1)
    clock.advance(wanted * TOTP_STEP + clock.tolerance + BOUNDARY_MARGIN - now)
    return int(clock.now() // TOTP_STEP)


def _far_code(secret: str, step: int, direction: int) -> tuple[int, str]:
    """(distance, code) of the step FAR_STEPS away from `step` in `direction`."""
    totp = pyotp.TOTP(secret)
    near = {totp.generate_otp(step + offset) for offset in (-1, 0, 1)}
    for extra in _FALLBACKS:
        distance = FAR_STEPS + extra
        code = totp.generate_otp(step + direction * distance)
        if code not in near:
            return distance, code
    not_verified("every far step's code equals a code the target may accept (a coincidence below 1 in 10^16)")


def _login_far(target, clock, registry, lockouts: Lockouts, account: Account, secret: str, direction: int):
    """A login with the right password and a code FAR_STEPS (or more) away;
    a throttle's 429 is waited out and the attempt made again from a fresh step."""
    for _ in range(3):
        step = _clear_step(clock, registry, account)
        distance, code = _far_code(secret, step, direction)
        # a target with a wide window accepts the step, and then refuses it and every
        # earlier one: the harness's next code must come from a later step
        registry.spend(account, step + direction * distance)
        response = target.login(account, code)
        if response.status_code != 429:
            return distance, response
        if not lockouts.wait_out(response):
            not_verified("the login throttle answered 429 and the clock cannot move past its Retry-After")
    not_verified("the login throttle answered 429 to every attempt, even after each Retry-After")


def _log_out(target, response) -> None:
    """Best effort: a login the target should have refused still made a session."""
    try:
        body = response.json()
        target.post("/auth/logout", bearer=body["accessToken"], json={"refreshToken": body["refreshToken"]})
    except (ValueError, KeyError, TypeError):
        pass


@pytest.fixture
def target_clock(clock):
    """The clock, when it tells the target's own notion of now; asked for
    before `two_factor`, so that without one no TOTP step is spent first."""
    if clock.name not in TARGET_CLOCKS:
        not_verified(
            "needs the target's own clock (/_test/clock): TOTP steps are counted on it, and with "
            f"--clock {clock.name} the harness knows only its own time, so a code it takes for two steps "
            "old may be one step old on the target"
        )
    return clock


@requirement("BSK-TFA-011")
def test_codes_two_or_more_steps_from_now_are_refused(target_clock, two_factor, lockouts, two_factor_registry,
                                                      target):
    """RFC 6238 §5.2: at most one step of delay. A code of the step two behind
    the target's current one (a minute old) and one of the step two ahead are
    each sent with the right password; both must be refused. Steps are counted
    on the target's clock, so this needs clock control."""
    clock = target_clock
    account = two_factor.account
    lockouts.watch(account)
    answers = []
    for direction, where in ((-1, "behind"), (1, "ahead of")):
        distance, response = _login_far(target, clock, two_factor_registry, lockouts, account, two_factor.secret,
                                         direction)
        if response.status_code == 200:
            _log_out(target, response)
        answers.append((f"{distance} steps ({distance * TOTP_STEP} s) {where}", response))
    # the status alone: a 200's body is a token pair, and a quote cut short escapes redaction
    accepted = [f"the code {label} the target's current step: HTTP {r.status_code}"
                + (" with a token pair (logged in)" if r.status_code == 200 else "")
                for label, r in answers if r.status_code != 401]
    expect(
        not accepted,
        "HTTP 401 to codes two or more steps from the target's current one (RFC 6238 §5.2: at most one step "
        "of delay)",
        "; ".join(accepted),
        "login with the right password and a TOTP code far from now",
    )
