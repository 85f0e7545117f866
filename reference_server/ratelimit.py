"""Per-key rate limits: an exact sliding 60-second window (contract §5).

The limiter remembers when each admitted request of a key arrived. A request
is admitted while fewer than ``rateLimit`` admitted requests are younger than
60 s; a refused request is not remembered, so a 429 never costs budget.
Admission is decided and recorded under one lock, so concurrent requests
can never push a key over its limit.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict, deque
from dataclasses import dataclass

from .clock import Clock

WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class RateDecision:
    """The outcome of one admission, and the ``X-RateLimit-*`` headers it implies."""

    allowed: bool
    limit: int
    #: How many more requests the key may make now (0 on a refusal).
    remaining: int
    #: Seconds until the window frees a slot.
    reset: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


class RateLimiter:
    """Sliding-window admission per key id (in memory: a restart forgets the window)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._admitted: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def window(self) -> float:
        return WINDOW_SECONDS

    def has_room(self, used: int, limit: int) -> bool:
        """Whether one more request fits when ``used`` requests are in the window."""
        return used < limit

    def admit(self, key_id: str, limit: int) -> RateDecision:
        """Admit or refuse one request of ``key_id``, atomically."""
        now = self.clock.now()
        window = self.window()
        with self._lock:
            admitted = self._admitted[key_id]
            # A request at t counts while now < t + window.
            while admitted and admitted[0] <= now - window:
                admitted.popleft()
            allowed = self.has_room(len(admitted), limit)
            if allowed:
                admitted.append(now)
            oldest = admitted[0] if admitted else now
            return RateDecision(
                allowed=allowed,
                limit=limit,
                remaining=max(0, limit - len(admitted)) if allowed else 0,
                reset=max(1, math.ceil(oldest + window - now)),
            )
