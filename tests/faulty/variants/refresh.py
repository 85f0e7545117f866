"""Faults in refresh tokens: rotation, families, logout, token kinds (contract §3, §4, §8).

Each overrides one step of `TokenService`'s rotation pipeline (`refresh`,
`rotate`, `claim_refresh`, `family_expired`, `logout`, `verify_access`) or,
for the body, one step of `BodyParser`.
"""

from __future__ import annotations

import dataclasses
import secrets

from bsk_conformance.reference_server import errors
from bsk_conformance.reference_server.bodies import BodyParser
from bsk_conformance.reference_server.tokens import REFRESH_TOKEN_PREFIX, AccessClaims, TokenService
from tests.faulty.variant import Variant, swap


class SameRefreshTokenBack(TokenService):
    """Refresh answers a new access token and the presented (now spent) refresh token."""

    def rotate(self, record, refresh_token, now):
        return dataclasses.replace(super().rotate(record, refresh_token, now), refresh_token=refresh_token)


class RotatedTokenStaysValid(TokenService):
    def claim_refresh(self, record, now) -> bool:
        return True


class ReuseKeepsTheFamily(TokenService):
    """A rotated token presented again is refused, but its family lives on."""

    def rotate(self, record, refresh_token, now):
        if not self.claim_refresh(record, now):
            raise errors.invalid_refresh_token()
        return self._pair(record.user_id, record.organization_id, record.family_id,
                          family_started_at=record.family_started_at, now=now)


class LifetimeFromLastRotation(TokenService):
    def family_expired(self, record, now) -> bool:
        return now >= record.issued_at + self.refresh_lifetime()


class LogoutIgnored(TokenService):
    def logout(self, user_id, refresh_token) -> None:
        return None


class RefreshTokenIsABearer(TokenService):
    def verify_access(self, token):
        record = self.find_refresh(token)
        if record is not None and record.family_revoked_at is None:
            issued = int(record.issued_at)
            return AccessClaims(record.user_id, record.organization_id, record.digest, issued,
                                issued + self.access_lifetime())
        return super().verify_access(token)


class AccessTokenRefreshes(TokenService):
    def refresh(self, refresh_token):
        if self.find_refresh(refresh_token) is None:
            try:
                claims = self.verify_access(refresh_token)
            except errors.ApiError:
                raise errors.invalid_refresh_token() from None
            return self.issue_pair(claims.user_id, claims.organization_id)
        return super().refresh(refresh_token)


class UnknownRefreshTokenIs400(TokenService):
    def refresh(self, refresh_token):
        if self.find_refresh(refresh_token) is None:
            raise errors.invalid_request("Unknown refresh token.")
        return super().refresh(refresh_token)


class UnstoredRefreshToken(TokenService):
    """The refresh token a rotation answers was never stored: it cannot be used."""

    def rotate(self, record, refresh_token, now):
        pair = super().rotate(record, refresh_token, now)
        return dataclasses.replace(pair, refresh_token=REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32))


class BodiesNotValidated(BodyParser):
    """JSON objects reach the routes as they came: no field or type checks."""

    def validate(self, data, model):
        if not isinstance(data, dict):
            raise errors.invalid_request("The request body must be a JSON object.")
        return model.model_construct(**data)


def _tokens(kind: type[TokenService]):
    return swap("tokens", lambda p: kind(p.store, p.clock))


VARIANTS = [
    Variant(
        name="refresh_token_not_rotated",
        breaks="refresh answers a new refresh token (single use: rotation)",
        trips=("BSK-TOK-007", "BSK-REF-010"),
        blast={"BSK-REF-004": "the token a rotation answers is already spent, so that check cannot rotate "
                              "twice to reach its boundary (error)"},
        factory=_tokens(SameRefreshTokenBack),
    ),
    Variant(
        name="rotated_refresh_token_stays_valid",
        breaks="using a refresh token invalidates it",
        trips=("BSK-REF-001", "BSK-REF-002", "BSK-REF-003"),
        factory=_tokens(RotatedTokenStaysValid),
    ),
    Variant(
        name="refresh_reuse_keeps_the_family",
        breaks="presenting an already-rotated token SHOULD revoke the whole token family",
        trips=("BSK-REF-002",),
        factory=_tokens(ReuseKeepsTheFamily),
    ),
    Variant(
        name="refresh_lifetime_restarts_on_rotation",
        breaks="refresh token lifetime 7 days (604 800 s), from the login",
        trips=("BSK-REF-004",),
        factory=_tokens(LifetimeFromLastRotation),
    ),
    Variant(
        name="logout_keeps_the_refresh_token",
        breaks="logout: the refresh token is revoked",
        trips=("BSK-REF-005",),
        factory=_tokens(LogoutIgnored),
    ),
    Variant(
        name="refresh_token_accepted_as_bearer",
        breaks="a refresh token is never accepted as an access token",
        trips=("BSK-REF-006",),
        factory=_tokens(RefreshTokenIsABearer),
    ),
    Variant(
        name="access_token_accepted_as_refresh_token",
        breaks="an access token is never accepted as a refresh token",
        trips=("BSK-REF-007",),
        factory=_tokens(AccessTokenRefreshes),
    ),
    Variant(
        name="unknown_refresh_token_is_400",
        breaks="401 invalid_token for malformed refresh tokens",
        trips=("BSK-REF-009", "BSK-REF-007"),
        factory=_tokens(UnknownRefreshTokenIs400),
    ),
    Variant(
        name="refreshed_refresh_token_unusable",
        breaks="refresh returns a new pair (that works)",
        trips=("BSK-REF-010",),
        blast={"BSK-REF-004": "the token a rotation answers cannot be used, so that check cannot rotate "
                              "twice to reach its boundary (error)"},
        factory=_tokens(UnstoredRefreshToken),
    ),
    Variant(
        name="refresh_body_not_validated",
        breaks="a malformed refresh body gets 400 or 401, never 5xx",
        trips=("BSK-REF-008",),
        factory=swap("bodies", lambda p: BodiesNotValidated(p.bodies.max_bytes)),
    ),
]
