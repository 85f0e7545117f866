"""Faults in per-key rate limits and the login throttle (contract §5, §8)."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, replace

from bsk_conformance.reference_server.errors import ErrorResponder
from bsk_conformance.reference_server.ratelimit import RateDecision, RateLimiter
from bsk_conformance.reference_server.throttle import LoginThrottle
from tests.faulty.variant import Variant, swap


class NoRateLimit(RateLimiter):
    def has_room(self, used: int, limit: int) -> bool:
        return True


class OffByOne(RateLimiter):
    def has_room(self, used: int, limit: int) -> bool:
        return used <= limit


class NoRetryAfter(ErrorResponder):
    def retry_after(self, error) -> str | None:
        return None


class RefusalsCount(RateLimiter):
    """Records refused requests in the window too: a 429 costs budget."""

    def admit(self, key_id: str, limit: int) -> RateDecision:
        decision = super().admit(key_id, limit)
        if not decision.allowed:
            with self._lock:
                self._admitted[key_id].append(self.clock.now())
        return decision


class PerOrganization(RateLimiter):
    """One budget per organization, whatever key is used."""

    def __init__(self, clock, store) -> None:
        super().__init__(clock)
        self.store = store

    def admit(self, key_id: str, limit: int) -> RateDecision:
        row = self.store.query_one("SELECT organization_id FROM api_keys WHERE id = ?", (key_id,))
        return super().admit(row["organization_id"] if row else key_id, limit)


class RemainingStuck(RateLimiter):
    """X-RateLimit-Remaining says limit - 1 on every admitted request."""

    def admit(self, key_id: str, limit: int) -> RateDecision:
        decision = super().admit(key_id, limit)
        return replace(decision, remaining=limit - 1) if decision.allowed else decision


@dataclass(frozen=True)
class _DecisionWithoutReset(RateDecision):
    def headers(self) -> dict[str, str]:
        headers = super().headers()
        del headers["X-RateLimit-Reset"]
        return headers


class NoResetHeader(RateLimiter):
    def admit(self, key_id: str, limit: int) -> RateDecision:
        return _DecisionWithoutReset(**asdict(super().admit(key_id, limit)))


class LaggingCounter(RateLimiter):
    """An eventually consistent counter, as in a limiter that replicates its
    counts: admission is decided on a count that learns of an admitted
    request only LAG (real) seconds later, so a burst all sees an empty window."""

    LAG = 1.0

    def admit(self, key_id: str, limit: int) -> RateDecision:
        now = self.clock.now()
        with self._lock:
            admitted = self._admitted[key_id]
            while admitted and admitted[0] <= now - self.window():
                admitted.popleft()
            allowed = self.has_room(len(admitted), limit)
            used = len(admitted)
        if allowed:
            timer = threading.Timer(self.LAG, self._record, (key_id, now))
            timer.daemon = True
            timer.start()
        return RateDecision(
            allowed=allowed, limit=limit, remaining=max(0, limit - used - 1) if allowed else 0, reset=int(self.window())
        )

    def _record(self, key_id: str, moment: float) -> None:
        with self._lock:
            self._admitted[key_id].append(moment)


class HalfMinuteWindow(RateLimiter):
    def window(self) -> float:
        return 30.0


class TwoMinuteWindow(RateLimiter):
    def window(self) -> float:
        return 120.0


class NoLoginThrottle(LoginThrottle):
    def check(self, email: str) -> None:
        return None


def _throttle(parts, cls):
    return cls(parts.clock, threshold=parts.throttle.threshold, window=parts.throttle.window)


VARIANTS = [
    Variant(
        name="no_rate_limit",
        # run against every suite, not only its areas: no false positive anywhere else
        full=True,
        breaks="each key admits at most rateLimit requests in any 60-second window",
        trips=("BSK-RL-001", "BSK-RL-007"),
        blast={
            "BSK-RL-002": "no request is refused, so there is no 429 to carry Retry-After",
            "BSK-RL-004": "no request is refused, so Remaining cannot be seen at 0 on a 429",
            "BSK-RL-005": "that check first needs the key refused mid-window",
            "BSK-RL-006": "that check first needs the first key exhausted",
            "BSK-RL-008": "that check first needs the key exhausted",
            "BSK-RL-010": "an exhausted key is what that check watches 59 s later",
            "BSK-DEF-001": "a key without rateLimit admits more than its default 60: there is no limit",
            "BSK-OBS-006": "no 429 comes, so there is no X-RateLimit-Reset on one to judge",
            "BSK-OBS-007": "no 429 comes, so there is no Retry-After on one to judge",
            "BSK-PAIR-004": "the two same-named keys admit more than their limit: there is none",
        },
        factory=swap("rate_limiter", lambda p: NoRateLimit(p.clock)),
    ),
    Variant(
        name="rate_limit_off_by_one",
        breaks="each key admits at most rateLimit requests: the next gets 429",
        trips=("BSK-RL-001",),
        blast={
            "BSK-RL-002": "request rateLimit + 1 is admitted, so the expected 429 is not there",
            "BSK-RL-004": "request rateLimit + 1 is admitted, so the expected 429 is not there",
            "BSK-RL-005": "the key is not refused after rateLimit requests, as that check needs",
            "BSK-RL-006": "the first key is not exhausted after rateLimit requests, as that check needs",
            "BSK-RL-007": "a burst gets rateLimit + 1 admitted",
            "BSK-RL-008": "the key is not refused after rateLimit requests, as that check needs",
            "BSK-RL-010": "the key is not refused after rateLimit requests, as that check needs",
        },
        factory=swap("rate_limiter", lambda p: OffByOne(p.clock)),
    ),
    Variant(
        name="rate_limited_without_retry_after",
        breaks="the next gets 429 with Retry-After (seconds); login throttled with 429 with Retry-After",
        trips=("BSK-RL-002", "BSK-RL-009", "BSK-TFA-009"),
        factory=swap("errors", lambda p: NoRetryAfter()),
    ),
    Variant(
        name="rate_limit_refusals_consume_budget",
        breaks="rejected (429) requests do not consume the budget",
        trips=("BSK-RL-005",),
        factory=swap("rate_limiter", lambda p: RefusalsCount(p.clock)),
    ),
    Variant(
        name="rate_limit_per_organization",
        breaks="limits are per key, not per organization",
        trips=("BSK-RL-006",),
        blast={
            rid: "every check's keys are alice's, so the requests of earlier checks in the same window share the budget"
            for rid in (
                "BSK-RL-001",
                "BSK-RL-002",
                "BSK-RL-003",
                "BSK-RL-004",
                "BSK-RL-005",
                "BSK-RL-007",
                "BSK-RL-008",
                "BSK-RL-010",
            )
        },
        factory=swap("rate_limiter", lambda p: PerOrganization(p.clock, p.store)),
    ),
    Variant(
        name="rate_limit_remaining_does_not_fall",
        breaks="X-RateLimit-Remaining falls by one with each admitted request",
        trips=("BSK-RL-004",),
        factory=swap("rate_limiter", lambda p: RemainingStuck(p.clock)),
    ),
    Variant(
        name="rate_limit_reset_header_missing",
        breaks="every key-authenticated response carries X-RateLimit-Reset",
        trips=("BSK-RL-003",),
        factory=swap("rate_limiter", lambda p: NoResetHeader(p.clock)),
    ),
    Variant(
        name="rate_limit_counter_lags_under_concurrency",
        breaks="concurrent requests never push a key over its limit",
        trips=("BSK-RL-007",),
        blast={
            rid: "the count lags by a second, so requests sent one after another within it are all admitted too"
            for rid in (
                "BSK-RL-001",
                "BSK-RL-002",
                "BSK-RL-003",
                "BSK-RL-004",
                "BSK-RL-005",
                "BSK-RL-006",
                "BSK-RL-008",
                "BSK-RL-010",
            )
        },
        factory=swap("rate_limiter", lambda p: LaggingCounter(p.clock)),
    ),
    Variant(
        name="rate_limit_window_is_30_seconds",
        breaks="at most rateLimit requests in any 60-second window",
        trips=("BSK-RL-010",),
        blast={"BSK-RL-005": "the admitted requests leave the window at 30 s, when that check expects refusals"},
        factory=swap("rate_limiter", lambda p: HalfMinuteWindow(p.clock)),
    ),
    Variant(
        name="rate_limit_window_is_2_minutes",
        breaks="a request 60 s after the admitted ones is admitted again",
        trips=("BSK-RL-008",),
        blast={
            "BSK-RL-002": "Retry-After counts down the 120 s window, past the 60 s bound",
            "BSK-RL-003": "X-RateLimit-Reset counts down the 120 s window, past the 60 s bound",
            "BSK-RL-005": "the admitted requests are still in the window 60 s later",
        },
        factory=swap("rate_limiter", lambda p: TwoMinuteWindow(p.clock)),
    ),
    Variant(
        name="no_login_throttle",
        breaks="login SHOULD be throttled per account after repeated failures",
        trips=("BSK-RL-009", "BSK-TFA-009"),
        factory=swap("throttle", lambda p: _throttle(p, NoLoginThrottle)),
    ),
]
