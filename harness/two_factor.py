"""An account with 2FA on for a check: turning it on for a profile account
that has none, making valid and invalid codes, and turning it off again; on
a real clock, one enable kept for the checks in a row that ask for it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pyotp

from bsk_conformance.harness.accounts import disable_two_factor, enable_two_factor
from bsk_conformance.harness.profile import Account
from bsk_conformance.harness.session import TwoFactorRegistry, session_from_login
from bsk_conformance.harness.target import Target
from bsk_conformance.harness.verdicts import CleanupFailed


@dataclass
class TwoFactorAccount:
    """An account with 2FA on, and the means to make valid codes for it."""

    account: Account
    secret: str
    managed: bool  # True when the harness turned 2FA on and must turn it off
    registry: TwoFactorRegistry

    def fresh_code(self) -> str:
        """A valid code from a step this account has not used yet."""
        return self.registry.next_code(self.account, self.secret)

    def wrong_codes(self, count: int) -> list[str]:
        """Distinct well-formed codes valid at no step near now (±2 steps), so
        no server window (±1 step, or wider by one) can accept them."""
        now = self.registry.now()
        totp = pyotp.TOTP(self.secret)
        taken = {totp.at(now + offset) for offset in (-60, -30, 0, 30, 60)}
        candidates = (f"{n:06d}" for n in range(0, 1_000_000, 7919))
        return list(itertools.islice((code for code in candidates if code not in taken), count))

    def wrong_code(self) -> str:
        return self.wrong_codes(1)[0]


def turn_on(target: Target, registry: TwoFactorRegistry, account: Account) -> TwoFactorAccount:
    """Turn 2FA on for `account` (setup, then enable with a fresh code)."""
    return TwoFactorAccount(account, enable_two_factor(registry, account), True, registry)


def turn_off(target: Target, registry: TwoFactorRegistry, account: TwoFactorAccount) -> None:
    """Leave the account as it was found, even when the check failed."""
    if registry.secret(account.account) is None:
        return  # the check turned it off itself
    disable_two_factor(registry, account.account, account.secret, cleanup=True)
    # a disable that answers 204 and leaves 2FA on would strand the account
    # for every later check: prove it is off
    login = target.login(account.account)
    if login.status_code != 200:
        raise CleanupFailed(
            f"2FA disable answered 204 but {account.account.email} still cannot log in without a code "
            f"(HTTP {login.status_code})"
        )
    session_from_login(target, account.account, login).logout()


class KeptTwoFactor:
    """On a real clock: one account with 2FA on, handed from each check that
    asks for `two_factor` to the next one that runs right after it.

    Turning 2FA on (a TOTP step) and off again (a login and a disable, a step
    each) is a minute and a half of real waiting per check. Checks in a row
    that all ask for `two_factor` share one enable instead; the plugin's
    teardown hook (harness/fixtures.py) hands the account on after each of
    them (`hand_on`) and turns 2FA off after the last (`release`), before any
    check that does not ask for it, and at the session's end.

    Handing on keeps what a turn-off and a turn-on between the checks gave:
    a successful login (with a fresh code) between one check's failed logins
    and the next one's, for a target whose login throttle a success resets
    (§8), and a check that left 2FA off without saying so found at its own
    teardown, not in the next check's verdict.
    """

    def __init__(self, target: Target, registry: TwoFactorRegistry) -> None:
        self._target = target
        self._registry = registry
        self._held: TwoFactorAccount | None = None
        self._used = False  # a check took it since it was last handed on

    @property
    def holding(self) -> bool:
        return self._held is not None

    def take(self, account: Account) -> TwoFactorAccount:
        """The account with 2FA on: the one held since an earlier check, or turned on now."""
        held = self._held
        self._used = True
        if held is not None and held.account == account and self._registry.secret(account) == held.secret:
            return held
        self.release()  # a check turned it off itself (the registry says so): nothing to hand on
        self._held = turn_on(self._target, self._registry, account)
        return self._held

    def hand_on(self) -> None:
        """Between two checks: a login with a fresh code, and 2FA shown on by
        `GET /me`; else 2FA is turned off (as far as it can be) and the
        check that just ran is told, as its cleanup's failure."""
        held, used, self._used = self._held, self._used, False
        if held is None or not used:  # a check not verified before it took the account: nothing changed
            return
        if self._registry.secret(held.account) != held.secret:
            self._held = None  # the check turned it off itself
            return
        login = self._target.login(held.account, held.fresh_code())
        if login.status_code != 200:
            self.release()
            raise CleanupFailed(f"with 2FA on, {held.account.email} could not log in with a fresh code after the "
                                f"check (HTTP {login.status_code}); 2FA turned off again")
        session = session_from_login(self._target, held.account, login)
        me = session.get("/me")
        session.logout()
        enabled = me.json().get("twoFactorEnabled") if me.status_code == 200 and _is_object(me) else None
        if enabled is not True:
            self._held = None
            self._registry.set(held.account, None)
            raise CleanupFailed(f"2FA turned on for {held.account.email} before the check was found off after it "
                                f"(GET /me: HTTP {me.status_code}, twoFactorEnabled {enabled!r}); the harness did "
                                "not turn it off")

    def release(self) -> None:
        """2FA off again, shown off by a login without a code (`turn_off`)."""
        held, self._held = self._held, None
        if held is not None:
            turn_off(self._target, self._registry, held)


def _is_object(response) -> bool:
    try:
        return isinstance(response.json(), dict)
    except ValueError:
        return False
