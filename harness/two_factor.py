"""An account with 2FA on for a check: turning it on for a profile account
that has none, making valid and invalid codes, and turning it off again."""

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
