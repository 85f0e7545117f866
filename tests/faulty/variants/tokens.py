"""Faults in access-token lifetimes and refresh rotation (contract §1, §4)."""

from bsk_conformance.reference_server.tokens import TokenService
from tests.faulty.variant import Variant, swap


class HourLongTokens(TokenService):
    def access_lifetime(self) -> int:
        return 3600


class ExpiryIgnored(TokenService):
    def check_expiry(self, claims, now) -> None:
        return None


class RefreshNeverExpires(TokenService):
    def family_expired(self, record, now) -> bool:
        return False


class RefreshExpiresEarly(TokenService):
    def family_expired(self, record, now) -> bool:
        return super().family_expired(record, now + 3600)


class AccessExpiresEarly(TokenService):
    def check_expiry(self, claims, now) -> None:
        super().check_expiry(claims, now + 60)


VARIANTS = [
    Variant(
        name="access_token_lives_an_hour",
        # run against every suite, not only its areas: no false positive anywhere else
        full=True,
        breaks="access token lifetime 15 minutes (900 s)",
        trips=("BSK-TOK-001", "BSK-TOK-002", "BSK-TOK-004"),
        blast={
            "BSK-FUZZ-004": "the stateful fuzz run validates its successful logins against the contract's "
            "OpenAPI, where expiresIn is the constant 900",
            "BSK-OBS-001": "exp lies 3600 s, not 900 s, after the login's observed window",
            "BSK-OBS-002": "the token is still accepted 900 s after the clock read after the login",
        },
        factory=swap("tokens", lambda p: HourLongTokens(p.store, p.clock)),
    ),
    Variant(
        name="access_token_exp_ignored",
        breaks="an expired exp is rejected",
        trips=("BSK-TOK-004",),
        factory=swap("tokens", lambda p: ExpiryIgnored(p.store, p.clock)),
    ),
    Variant(
        name="access_token_refused_a_minute_early",
        breaks="an access token is valid for its whole 900 s",
        trips=("BSK-TOK-003",),
        factory=swap("tokens", lambda p: AccessExpiresEarly(p.store, p.clock)),
    ),
    Variant(
        name="refresh_token_never_expires",
        breaks="refresh token lifetime 7 days (604 800 s)",
        trips=("BSK-TOK-006",),
        factory=swap("tokens", lambda p: RefreshNeverExpires(p.store, p.clock)),
    ),
    Variant(
        name="refresh_token_expires_an_hour_early",
        breaks="a refresh token is valid for its whole 604 800 s",
        trips=("BSK-TOK-005",),
        factory=swap("tokens", lambda p: RefreshExpiresEarly(p.store, p.clock)),
    ),
]
