"""Faults in TOTP two-factor authentication (contract §1, §3)."""

from reference_server.errors import ErrorResponder
from reference_server.two_factor import TwoFactor
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


VARIANTS = [
    Variant(
        name="two_factor_skipped",
        breaks="if the user has 2FA enabled, login must include twoFactorCode",
        trips=("BSK-TFA-001",),
        blast={
            "BSK-TFA-002": "with 2FA never asked, a wrong code is ignored and login succeeds",
            "BSK-TFA-004": "with 2FA never asked, a replayed code is ignored and login succeeds",
            "BSK-TFA-005": "enabling has no effect on login, which is what that check observes",
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
            for rid in ("BSK-TFA-001", "BSK-TFA-002", "BSK-TFA-003", "BSK-TFA-004", "BSK-TFA-006", "BSK-TFA-007")
        },
        factory=swap("two_factor", lambda p: WrongTotpAlgorithm(p.store, p.clock)),
    ),
]
