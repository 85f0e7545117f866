"""Faults that show only with both accounts in the same state at once (issue 22,
class 6; contract §1, §3, §4, §5): state keyed by something the two share."""

from __future__ import annotations

import dataclasses

from bsk_conformance.reference_server.keys import ApiKeys
from bsk_conformance.reference_server.ratelimit import RateDecision, RateLimiter
from bsk_conformance.reference_server.tokens import TokenService
from bsk_conformance.reference_server.two_factor import TwoFactor
from tests.faulty.variant import Variant, swap


class LastEnabledSecretChecksLogins(TwoFactor):
    """Login codes are checked against the secret enabled last, whoever's it is,
    while that user keeps 2FA on (a single "current secret" kept in memory):
    with one account on at a time, nothing shows."""

    def enable(self, user, code) -> None:
        super().enable(user, code)
        self.__dict__["_last_enabled"] = user

    def verify_login(self, user, code) -> None:
        last = self.__dict__.get("_last_enabled")
        secret = self._active_secret(last) if last is not None else None
        if secret is None or self._active_secret(user) is None:
            return super().verify_login(user, code)
        self._accept(user, secret, code, status=401)


class KeysResolvedByName(ApiKeys):
    """The presented key is verified, then its record fetched again by name
    (the newest key of that name, of any organization)."""

    def authenticate(self, presented: str):
        record = super().authenticate(presented)
        row = self.store.query_one(
            "SELECT * FROM api_keys WHERE name = ? AND revoked_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 1",
            (record.name,),
        )
        return self._record(row) if row else record


class FamiliesKeyedByLoginSecond(TokenService):
    """A reused token revokes every family opened in the same second as its
    own: the family is keyed by the login's timestamp, which two accounts share."""

    def revoke_family(self, family_id: str) -> None:
        self.store.execute(
            "UPDATE refresh_families SET revoked_at = ? WHERE revoked_at IS NULL AND CAST(started_at AS INTEGER) = "
            "(SELECT CAST(started_at AS INTEGER) FROM refresh_families WHERE id = ?)",
            (self.clock.now(), family_id),
        )


class BucketsKeyedByKeyName(RateLimiter):
    """Each key's window is kept under the key's name, so keys of one name share a budget."""

    def __init__(self, clock, store) -> None:
        super().__init__(clock)
        self.store = store

    def admit(self, key_id: str, limit: int) -> RateDecision:
        row = self.store.query_one("SELECT name FROM api_keys WHERE id = ?", (key_id,))
        return super().admit(f"name:{row['name']}" if row else key_id, limit)


VARIANTS = [
    Variant(
        name="login_codes_checked_against_the_last_enabled_secret",
        breaks="2FA: each user's code logs in that user only (both accounts with 2FA on)",
        trips=("BSK-PAIR-001",),
        factory=swap("two_factor", lambda p: LastEnabledSecretChecksLogins(p.store, p.clock)),
    ),
    Variant(
        name="api_keys_resolved_by_name",
        breaks="key properties: scoped to a single organization (keys of the same name in two organizations)",
        trips=("BSK-PAIR-002",),
        factory=swap("keys", lambda p: KeysResolvedByName(p.store, p.clock, p.settings.environment)),
        blast={"BSK-PAIR-004": "the twin keys' requests are counted as the newer key's: the same lookup"},
    ),
    Variant(
        name="refresh_families_keyed_by_login_second",
        breaks="rotation: using a refresh token returns a new pair (another account's reuse revoked it)",
        trips=("BSK-PAIR-003",),
        factory=swap("tokens", lambda p: FamiliesKeyedByLoginSecond(p.store, p.clock)),
    ),
    Variant(
        name="rate_limit_buckets_keyed_by_key_name",
        breaks="limits are per key, not per organization (two keys of one name share a budget)",
        trips=("BSK-PAIR-004",),
        factory=swap("rate_limiter", lambda p: BucketsKeyedByKeyName(p.clock, p.store)),
    ),
]
