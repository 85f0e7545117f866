"""Faults in the contract's defaults that the target's own metadata hides
(contract §3, §5): the default is stated right and applied otherwise."""

from __future__ import annotations

from bsk_conformance.reference_server.keys import ApiKeys
from bsk_conformance.reference_server.ratelimit import RateDecision, RateLimiter
from tests.faulty.variant import Variant, swap

DEFAULT_RATE_LIMIT = 60
THIRTY_DAYS = 30 * 86_400


def _default_applied_as(applied: int) -> type[RateLimiter]:
    class DefaultAppliedOtherwise(RateLimiter):
        """Metadata says 60, but a key of the default limit is admitted by the
        gateway's own default (the key's limit is not passed on when it was not set)."""

        def admit(self, key_id: str, limit: int) -> RateDecision:
            return super().admit(key_id, applied if limit == DEFAULT_RATE_LIMIT else limit)

    DefaultAppliedOtherwise.__name__ = f"DefaultAppliedAs{applied}"
    return DefaultAppliedOtherwise


class NeverMeansThirtyDays(ApiKeys):
    """expiresAt null is shown as null, and the key stops working 30 days after creation."""

    def is_expired(self, record, now: float) -> bool:
        if record.expires_at is None:
            return now >= record.created_at + THIRTY_DAYS
        return super().is_expired(record, now)


VARIANTS = [
    Variant(
        name="default_rate_limit_applied_as_100",
        breaks="rateLimit default 60 (metadata says 60; the limiter admits 100)",
        trips=("BSK-DEF-001",),
        factory=swap("rate_limiter", lambda p: _default_applied_as(100)(p.clock)),
    ),
    Variant(
        name="default_rate_limit_applied_as_10",
        breaks="rateLimit default 60 (metadata says 60; the limiter admits 10)",
        trips=("BSK-DEF-001",),
        factory=swap("rate_limiter", lambda p: _default_applied_as(10)(p.clock)),
    ),
    Variant(
        name="null_expiry_means_thirty_days",
        breaks="expiresAt null = never (the metadata says null; the key stops working after 30 days)",
        trips=("BSK-DEF-002",),
        factory=swap("keys", lambda p: NeverMeansThirtyDays(p.store, p.clock, p.settings.environment)),
    ),
]
