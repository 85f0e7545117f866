"""TOTP two-factor authentication (RFC 6238 via pyotp): SHA-1, 6 digits, 30 s.

Codes are checked for the current time step of the app's clock and one step
either side (clock drift, RFC 6238 §5.2). A code is accepted at most once:
each user records the last time step accepted, for login, enable and
disable alike, and only a later step is accepted after it (RFC 6238 §5.2:
"the verifier MUST NOT accept the second attempt of the OTP").

Steps are computed from the clock here and passed to pyotp as integers
(``generate_otp(step)``), rather than letting pyotp turn a time into a
step through naive local ``datetime`` arithmetic.
"""

from __future__ import annotations

import hmac
import re

import pyotp

from . import errors
from .accounts import User
from .clock import Clock
from .store import Store

DIGITS = 6
STEP_SECONDS = 30
VALID_WINDOW = 1
ISSUER = "BSK"
_CODE_SHAPE = re.compile(r"[0-9]{6}")


class TwoFactor:
    """Setup, enable, disable, and the second factor of login."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def required_for(self, user: User) -> bool:
        """Whether login must carry ``twoFactorCode`` for this user."""
        return user.two_factor_enabled

    def totp(self, secret: str) -> pyotp.TOTP:
        return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS, issuer=ISSUER)

    # -- management ------------------------------------------------------

    def setup(self, user: User) -> tuple[str, str]:
        """Draw a new secret, pending until ``enable``; return it and its otpauth URI."""
        if user.two_factor_enabled:
            raise errors.conflict("two_factor_already_enabled", "2FA is already on; disable it first.")
        secret = pyotp.random_base32()
        self.store.execute("UPDATE users SET totp_pending_secret = ? WHERE id = ?", (secret, user.id))
        return secret, self.totp(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)

    def enable(self, user: User, code: str) -> None:
        """Turn 2FA on with the pending secret, proven by a code from it."""
        if user.two_factor_enabled:
            raise errors.conflict("two_factor_already_enabled", "2FA is already on.")
        row = self.store.query_one("SELECT totp_pending_secret FROM users WHERE id = ?", (user.id,))
        secret = row["totp_pending_secret"] if row else None
        if secret is None:
            raise errors.conflict("two_factor_not_set_up", "Call POST /auth/2fa/setup first.")
        self._accept(user, secret, code, status=400)
        self.store.execute(
            "UPDATE users SET totp_secret = ?, totp_pending_secret = NULL WHERE id = ?", (secret, user.id)
        )

    def disable(self, user: User, code: str) -> None:
        """Turn 2FA off, proven by a current code."""
        secret = self._active_secret(user)
        if secret is None:
            raise errors.conflict("two_factor_not_enabled", "2FA is not on.")
        self._accept(user, secret, code, status=400)
        self.store.execute("UPDATE users SET totp_secret = NULL WHERE id = ?", (user.id,))

    # -- login -----------------------------------------------------------

    def verify_login(self, user: User, code: str) -> None:
        """Accept a login code or raise 401 ``invalid_two_factor_code``."""
        secret = self._active_secret(user)
        if secret is None:
            raise errors.invalid_two_factor_code()
        self._accept(user, secret, code, status=401)

    # -- the check itself ------------------------------------------------

    def matching_step(self, secret: str, code: str, now: float) -> int | None:
        """The time step within the window whose code is ``code``, if any."""
        if not _CODE_SHAPE.fullmatch(code):
            return None
        totp = self.totp(secret)
        current = int(now // STEP_SECONDS)
        for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                return step
        return None

    def claim_step(self, user_id: str, step: int) -> bool:
        """Record ``step`` as used, atomically, unless it (or a later one) already was."""
        changed = self.store.execute(
            "UPDATE users SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)",
            (step, user_id, step),
        )
        return changed == 1

    def _accept(self, user: User, secret: str, code: str, *, status: int) -> None:
        step = self.matching_step(secret, code, self.clock.now())
        if step is None or not self.claim_step(user.id, step):
            raise errors.invalid_two_factor_code(status)

    def _active_secret(self, user: User) -> str | None:
        row = self.store.query_one("SELECT totp_secret FROM users WHERE id = ?", (user.id,))
        return row["totp_secret"] if row else None
