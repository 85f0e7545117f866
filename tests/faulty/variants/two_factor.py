"""Faults in TOTP two-factor authentication (contract §1, §3, §5)."""

import hmac
import re

from bsk_conformance.reference_server import errors
from bsk_conformance.reference_server.accounts import Accounts
from bsk_conformance.reference_server.errors import ApiError, ErrorResponder
from bsk_conformance.reference_server.throttle import LoginThrottle
from bsk_conformance.reference_server.two_factor import STEP_SECONDS, TwoFactor
from tests.faulty.variant import Variant, swap


class TwoFactorSkipped(TwoFactor):
    def required_for(self, user) -> bool:
        return False


class MissingCodeIs403(ErrorResponder):
    def status(self, error) -> int:
        return 403 if error.code == "two_factor_required" else super().status(error)


class CodesReusable(TwoFactor):
    def claim_step(self, user_id, step) -> bool:
        return True


class WrongTotpAlgorithm(TwoFactor):
    def totp(self, secret):
        import hashlib

        import pyotp

        return pyotp.TOTP(secret, digits=6, interval=30, digest=hashlib.sha256)


class WrongCodeIsInvalidCredentials(TwoFactor):
    def verify_login(self, user, code) -> None:
        try:
            super().verify_login(user, code)
        except ApiError:
            raise errors.invalid_credentials() from None


class LoginCodesCheckedOnASlowClock(TwoFactor):
    """Login checks codes against the time 90 s ago (a skewed clock), so a
    current code is refused; enable and disable are right."""

    def verify_login(self, user, code) -> None:
        secret = self._active_secret(user)
        step = self.matching_step(secret, code, self.clock.now() - 90) if secret else None
        if step is None or not self.claim_step(user.id, step):
            raise errors.invalid_two_factor_code()


class DisableDoesNothing(TwoFactor):
    """Checks the code and answers 204, but never clears the secret."""

    def disable(self, user, code) -> None:
        secret = self._active_secret(user)
        if secret is None:
            raise errors.conflict("two_factor_not_enabled", "2FA is not on.")
        self._accept(user, secret, code, status=400)


class DisableWithoutCode(TwoFactor):
    def disable(self, user, code) -> None:
        if self._active_secret(user) is None:
            raise errors.conflict("two_factor_not_enabled", "2FA is not on.")
        self.store.execute("UPDATE users SET totp_secret = NULL WHERE id = ?", (user.id,))


class WideLoginWindow(TwoFactor):
    """Login accepts codes up to four steps (two minutes) either side of now,
    "for clock drift"; enable and disable keep the honest one step."""

    def verify_login(self, user, code) -> None:
        secret = self._active_secret(user)
        step = None
        if secret is not None and re.fullmatch(r"[0-9]{6}", code):
            current = int(self.clock.now() // STEP_SECONDS)
            totp = self.totp(secret)
            step = next((s for s in range(current - 4, current + 5) if hmac.compare_digest(totp.generate_otp(s), code)),
                        None)
        if step is None or not self.claim_step(user.id, step):
            raise errors.invalid_two_factor_code()


class TwoFactorAskedBeforePassword(Accounts):
    """A wrong password of a 2FA user is answered two_factor_required."""

    def authenticate(self, email, password):
        try:
            return super().authenticate(email, password)
        except ApiError:
            row = self.store.query_one("SELECT totp_secret FROM users WHERE email = ?", (email.lower(),))
            if row is not None and row["totp_secret"] is not None:
                raise errors.two_factor_required() from None
            raise


class CodesParsedAsIntegers(TwoFactor):
    """int(code) first: a code with letters (or an empty one) is a 500."""

    def matching_step(self, secret, code, now):
        number = int(code)
        return super().matching_step(secret, f"{number:06d}" if 0 <= number < 1_000_000 else code, now)


class TwoFactorAccountsNotThrottled(LoginThrottle):
    """Counts failures only for accounts without 2FA, as if the second factor
    made throttling unnecessary: wrong codes can be guessed without end."""

    def __init__(self, clock, store, *, threshold, window) -> None:
        super().__init__(clock, threshold=threshold, window=window)
        self.store = store

    def record_failure(self, email: str) -> None:
        row = self.store.query_one("SELECT totp_secret FROM users WHERE email = ?", (self.account_key(email),))
        if row is not None and row["totp_secret"] is not None:
            return
        super().record_failure(email)


_AFTER_STUCK_ALICE = "alice keeps 2FA after the two_factor fixture's cleanup, so this check cannot log her in"

VARIANTS = [
    Variant(
        name="two_factor_skipped",
        # run against every suite, not only its areas: no false positive anywhere else
        full=True,
        breaks="if the user has 2FA enabled, login must include twoFactorCode",
        trips=("BSK-TFA-001",),
        blast={
            "BSK-TFA-002": "with 2FA never asked, a wrong code is ignored and login succeeds",
            "BSK-TFA-004": "with 2FA never asked, a replayed code is ignored and login succeeds",
            "BSK-TFA-005": "enabling has no effect on login, which is what that check observes",
            "BSK-TFA-008": "with 2FA never asked, a malformed code is ignored and login succeeds",
            "BSK-TFA-009": "with 2FA never asked, wrong codes are ignored and login succeeds",
            "BSK-TFA-011": "with 2FA never asked, codes far from now are ignored and login succeeds",
            "BSK-PAIR-001": "with 2FA skipped, the other account's code (or none) logs the account in",
            "BSK-PROP-008": "with 2FA skipped, a login carrying a flag instead of a code succeeds",
            "BSK-NEAR-005": "the plain wrong code is not refused, so the near-misses have nothing to be "
            "judged against: the check ends in error",
        },
        factory=swap("two_factor", lambda p: TwoFactorSkipped(p.store, p.clock)),
    ),
    Variant(
        name="missing_two_factor_code_is_403",
        breaks="without the code the response is 401",
        trips=("BSK-TFA-001",),
        blast={"BSK-TFA-005": "that check observes 2FA being on through the 401 two_factor_required"},
        factory=swap("errors", lambda p: MissingCodeIs403()),
    ),
    Variant(
        name="totp_code_accepted_twice",
        breaks="401 invalid_two_factor_code for an already used code",
        trips=("BSK-TFA-004",),
        factory=swap("two_factor", lambda p: CodesReusable(p.store, p.clock)),
    ),
    Variant(
        name="totp_is_not_rfc6238_sha1",
        breaks="TOTP, RFC 6238: SHA-1, 6 digits, 30 s step",
        trips=("BSK-TFA-005",),
        blast={
            rid: "2FA cannot be turned on with an RFC 6238 code, so this check cannot run (error)"
            for rid in (
                "BSK-TFA-001",
                "BSK-TFA-002",
                "BSK-TFA-003",
                "BSK-TFA-004",
                "BSK-TFA-006",
                "BSK-TFA-007",
                "BSK-TFA-008",
                "BSK-TFA-009",
                "BSK-TFA-010",
                "BSK-TFA-011",
            )
        },
        factory=swap("two_factor", lambda p: WrongTotpAlgorithm(p.store, p.clock)),
    ),
    Variant(
        name="wrong_two_factor_code_is_invalid_credentials",
        breaks="401 invalid_two_factor_code (wrong or already used code)",
        trips=("BSK-TFA-002",),
        blast={"BSK-TFA-004": "a replayed code is refused by the same broken answer"},
        factory=swap("two_factor", lambda p: WrongCodeIsInvalidCredentials(p.store, p.clock)),
    ),
    Variant(
        name="two_factor_disable_does_nothing",
        breaks="POST /auth/2fa/disable {code} → 204, and 2FA is off",
        trips=("BSK-TFA-006",),
        blast={
            # the first check's cleanup proves 2FA is off again, finds it on, and errors
            "BSK-TFA-001": "its cleanup disables 2FA, proves it is still on, and ends in error",
        }
        | {
            rid: _AFTER_STUCK_ALICE
            for rid in (
                "BSK-TFA-002",
                "BSK-TFA-003",
                "BSK-TFA-004",
                "BSK-TFA-005",
                "BSK-TFA-007",
                "BSK-TFA-008",
                "BSK-TFA-009",
                "BSK-TFA-010",
                "BSK-TFA-011",
            )
        },
        factory=swap("two_factor", lambda p: DisableDoesNothing(p.store, p.clock)),
    ),
    Variant(
        name="two_factor_disable_without_valid_code",
        breaks="disabling 2FA needs a valid code",
        trips=("BSK-TFA-010",),
        factory=swap("two_factor", lambda p: DisableWithoutCode(p.store, p.clock)),
    ),
    Variant(
        name="totp_login_window_of_four_steps",
        breaks="a code two or more steps from the current one SHOULD be refused at login (RFC 6238 §5.2)",
        trips=("BSK-TFA-011",),
        factory=swap("two_factor", lambda p: WideLoginWindow(p.store, p.clock)),
    ),
    Variant(
        name="wrong_password_of_two_factor_user_is_two_factor_required",
        breaks="401 invalid_credentials for a wrong password; two_factor_required only when the password is right",
        trips=("BSK-TFA-007",),
        factory=swap("accounts", lambda p: TwoFactorAskedBeforePassword(p.store, p.accounts.passwords)),
    ),
    Variant(
        name="malformed_two_factor_code_is_500",
        breaks="malformed request bodies get 400, never 5xx",
        trips=("BSK-TFA-008",),
        factory=swap("two_factor", lambda p: CodesParsedAsIntegers(p.store, p.clock)),
    ),
    Variant(
        name="two_factor_code_guessing_not_throttled",
        breaks="login SHOULD be throttled per account after repeated failures (wrong codes)",
        trips=("BSK-TFA-009",),
        factory=swap(
            "throttle",
            lambda p: TwoFactorAccountsNotThrottled(
                p.clock, p.store, threshold=p.throttle.threshold, window=p.throttle.window
            ),
        ),
    ),
    Variant(
        name="current_totp_code_refused_at_login",
        breaks="login with the right password and a current RFC 6238 code answers 200",
        trips=("BSK-TFA-003",),
        blast={
            rid: "the harness turns 2FA off again through a 2FA login, which this fault refuses: the account "
            "keeps 2FA and later checks cannot log in (or are throttled by the refused logins)"
            for rid in (
                "BSK-TFA-001",
                "BSK-TFA-002",
                "BSK-TFA-004",
                "BSK-TFA-005",
                "BSK-TFA-006",
                "BSK-TFA-007",
                "BSK-TFA-008",
                "BSK-TFA-009",
                "BSK-TFA-010",
                "BSK-TFA-011",
            )
        },
        factory=swap("two_factor", lambda p: LoginCodesCheckedOnASlowClock(p.store, p.clock)),
    ),
]
