"""Checks that lock an account on purpose (login throttling, contract §5) and
must leave it as they found it.

A check that sends failed logins registers the account with its suite's
`lockouts` fixture (built on `lockouts_fixture`) before the first one. After the check, whatever its outcome, the
fixture waits out the throttle on the target's clock (past `Retry-After`)
and proves the account logs in again. If it cannot, the check ends in error
("cleanup failed"): the rule under check was judged, but the run's other
checks may no longer be able to use the account.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator

import httpx

from bsk_conformance.harness.disturbances import touch
from bsk_conformance.harness.expect import describe, expect, expect_error, fail
from bsk_conformance.harness.profile import Account
from bsk_conformance.harness.verdicts import CleanupFailed

# RFC 9110 §10.2.3: Retry-After = HTTP-date / delay-seconds; the contract uses delay-seconds.
_DELAY_SECONDS = re.compile(r"^[0-9]+$")
# Without a usable Retry-After, wait this long before trying again.
FALLBACK_WAIT = 3600
# How long a lock the harness is prepared to wait out on the target's clock.
LONGEST_LOCK = 86_400


def delay_seconds(response: httpx.Response) -> int | None:
    """`Retry-After` as RFC 9110 delay-seconds, or None when absent or in another form."""
    value = (response.headers.get("retry-after") or "").strip()
    return int(value) if _DELAY_SECONDS.fullmatch(value) else None


def expect_throttled(attempts: Iterable[httpx.Response], *, limit: int, tried: str, subject: str) -> httpx.Response:
    """The first 429 among `attempts` (sent lazily, `limit` at most), answered
    as the contract's error with a Retry-After in whole seconds; a failure
    when none of them is throttled."""
    response = None
    for response in itertools.islice(attempts, limit):
        if response.status_code == 429:
            break
    else:
        fail(f"a 429 within {limit} {tried}", f"none (the last: {describe(response)})", f"{tried} for {subject}")
    context = f"the 429 to {tried} for {subject}"
    expect_error(response, 429, context=context)
    seconds = delay_seconds(response)
    expect(
        seconds is not None and seconds > 0,
        "Retry-After in whole seconds (RFC 9110 delay-seconds), above 0",
        repr(response.headers.get("retry-after")),
        context,
    )
    return response


class Lockouts:
    """Accounts a check may lock, and their release after it."""

    def __init__(self, target, clock, registry) -> None:
        self._target = target
        self._clock = clock
        self._registry = registry
        self._accounts: list[Account] = []

    def can_release(self) -> bool:
        """Whether the clock can move far enough to wait out a lock."""
        return self._clock.can_advance(LONGEST_LOCK)

    def watch(self, account: Account) -> None:
        if account not in self._accounts:
            self._accounts.append(account)

    def wait_out(self, response: httpx.Response) -> bool:
        """Move the clock past a throttle's 429 (its Retry-After, or an hour
        without one). False when the clock cannot move that far."""
        wait = (delay_seconds(response) or FALLBACK_WAIT) + self._clock.tolerance + 1
        if wait > LONGEST_LOCK or not self._clock.can_advance(wait):
            return False
        self._clock.advance(wait)
        return True

    def release(self) -> list[str]:
        problems = []
        for account in self._accounts:
            problem = self._release(account)
            if problem:
                problems.append(problem)
        return problems

    def _release(self, account: Account) -> str | None:
        waited = 0.0
        for _ in range(4):
            code = self._registry.next_code(account) if self._registry.secret(account) else None
            response = self._target.login(account, code)
            if response.status_code == 200:
                self._log_out(response)
                return None
            if response.status_code != 429:
                return f"{account.email} cannot log in again: HTTP {response.status_code}"
            wait = (delay_seconds(response) or FALLBACK_WAIT) + self._clock.tolerance + 1
            if waited + wait > LONGEST_LOCK or not self._clock.can_advance(wait):
                return f"{account.email} is still throttled and the clock cannot move {wait:g} s further"
            self._clock.advance(wait)
            waited += wait
        return f"{account.email} is still throttled after {waited:g} s on the target's clock"

    def _log_out(self, response: httpx.Response) -> None:
        try:
            body = response.json()
            self._target.post("/auth/logout", bearer=body["accessToken"], json={"refreshToken": body["refreshToken"]})
        except (ValueError, KeyError, TypeError):
            pass  # best effort: the login itself is the proof


def lockouts_fixture(target, clock, two_factor_registry) -> Iterator[Lockouts]:
    """The body of each suite's `lockouts` fixture. Request that fixture
    after `two_factor` (if used) so that it is released first: turning 2FA
    off again needs a login."""
    touch("login-throttle", "asked for the lockouts fixture (it locks accounts by failed logins)")
    guard = Lockouts(target, clock, two_factor_registry)
    yield guard
    problems = guard.release()
    if problems:
        raise CleanupFailed("an account locked by this check could not be restored: " + "; ".join(problems))
