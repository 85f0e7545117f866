"""Login throttling per account (contract §5, a SHOULD).

After ``threshold`` failed logins for one email within ``window`` seconds,
further logins for it answer 429 until the oldest failure ages out. Failures
are wrong passwords and wrong 2FA codes; a successful login clears them.
Emails without an account are counted exactly like real ones, so the
throttle never reveals which emails have accounts.
"""

from __future__ import annotations

import math
import threading
from collections import deque

from . import errors
from .clock import Clock

#: Above this many tracked emails, stale entries are swept (bounded memory
#: under a spray of random emails).
_SWEEP_ABOVE = 4096


class LoginThrottle:
    def __init__(self, clock: Clock, *, threshold: int, window: float) -> None:
        self.clock = clock
        self.threshold = threshold
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def account_key(email: str) -> str:
        return email.strip().lower()

    def check(self, email: str) -> None:
        """Raise 429 ``too_many_attempts`` (with ``Retry-After``) while the account is locked."""
        now = self.clock.now()
        with self._lock:
            failures = self._recent(self.account_key(email), now)
            if len(failures) >= self.threshold:
                raise errors.too_many_attempts(max(1, math.ceil(failures[0] + self.window - now)))

    def record_failure(self, email: str) -> None:
        now = self.clock.now()
        with self._lock:
            key = self.account_key(email)
            self._recent(key, now)
            self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > _SWEEP_ABOVE:
                for stale in [k for k in self._failures if not self._recent(k, now)]:
                    del self._failures[stale]

    def record_success(self, email: str) -> None:
        with self._lock:
            self._failures.pop(self.account_key(email), None)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures
