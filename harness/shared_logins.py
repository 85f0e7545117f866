"""One login per account, lent to every check that only uses it.

Most checks ask for `user` (or `other_user`) to send a few requests as that
account; a login and a logout per check was a fifth of a run's exchanges, and
over a network they sit on the critical path. A check that only *uses* the
session gets the account's shared one. A check keeps a login of its own when
the session's life is part of what it judges or what it disturbs:

- its requirement declares a disturbance (fixtures/disturbances.toml: the
  clock, the login throttle, 2FA): those are also the only checks that may
  move time or lock or re-key an account, so the shared sessions are dropped
  after each of them;
- it asks for `clock`, `two_factor`, `lockouts` or `server`: it reasons about
  when a token was issued, or reaches past the wire.

A shared session is never handed on once a check has claimed it: read its
refresh token (to rotate it), its login body (which holds that token), or
logged it out. It is then logged out (best effort) and replaced.

The target may revoke more than the contract says a logout or a rotation
revokes (all of an account's sessions, say). So after any such request on the
wire since the shared session was last known good, it is shown to still work
(`GET /me`, one exchange) before it is lent again, and replaced if not: a check
is never handed a session an earlier check killed. Under xdist each worker has
its own sessions; the parallel phase has no disturbing checks (harness/phases.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import pytest

from bsk_conformance.harness.clock import ClockStrategy
from bsk_conformance.harness.disturbances import GUARD
from bsk_conformance.harness.evidence import RawExchange
from bsk_conformance.harness.profile import Account
from bsk_conformance.harness.session import TwoFactorRegistry, UserSession, log_out_for_good, logged_in
from bsk_conformance.harness.state import declared_key

#: fixtures whose presence means the check reasons about time or reaches past the wire
OWN_LOGIN_FIXTURES: Final = frozenset({"clock", "two_factor", "lockouts", "server"})
#: the session's parts a check reads only to rotate, revoke or replay it
_CLAIMING: Final = frozenset({"refresh_token", "login_body", "logout"})
#: requests after which a target may have revoked sessions other than the one they name
_REVOKING_PATHS: Final = ("/auth/logout", "/auth/refresh", "/auth/2fa/enable", "/auth/2fa/disable")
#: on a clock that moves by itself (--clock real/off), a shared access token older than
#: this on the target's clock is replaced: a check must never be lent one near its 900 s end
MAX_AGE_SECONDS: Final = 300.0


class LentSession(UserSession):
    """A shared session as lent to one check: reading what rotates or revokes
    it marks it claimed, so it is not lent again."""

    claimed: bool = False

    def __getattribute__(self, name: str):
        if name in _CLAIMING:
            object.__setattr__(self, "claimed", True)
        return super().__getattribute__(name)


@dataclass
class _Shared:
    session: LentSession
    issued_at: float  # the target's clock at login
    known_good: int  # the count of possibly revoking requests when it was last known to work


class SharedLogins:
    """The run's shared sessions (one per account), as one process holds them."""

    def __init__(self, registry: TwoFactorRegistry, clock: ClockStrategy) -> None:
        self._registry = registry
        self._clock = clock
        self._shared: dict[str, _Shared] = {}
        self._revoking = 0  # requests seen on the wire that may have revoked a shared session
        self._stale = False  # a check moved the clock, locked an account or switched 2FA
        self._lock = threading.Lock()
        self._stop_listening = GUARD.listen(self._touched)
        self.lent = 0  # checks handed a shared session without a login of their own

    def observe(self, exchange: RawExchange) -> None:
        """An evidence observer: counts the requests that may revoke sessions."""
        if exchange.method.upper() == "POST" and urlsplit(exchange.url).path.rstrip("/").endswith(_REVOKING_PATHS):
            with self._lock:
                self._revoking += 1

    def lend(self, account: Account, *, own: bool) -> Iterator[UserSession]:
        """A fixture's life of a session: the shared one where the check may
        have it, else a login of its own, logged out after."""
        if own or self._registry.secret(account):
            # an account with 2FA on spends a TOTP step per login, and a check
            # that meets one is a 2FA check: it keeps its own
            yield from logged_in(self._registry, account)
            return
        shared = self._current(account)
        yield shared.session
        if shared.session.claimed:
            self._drop(account.email)

    def close(self) -> None:
        """At the session's end: every shared session logged out."""
        self._stop_listening()
        self._stop_listening = lambda: None
        for email in list(self._shared):
            self._drop(email)

    def _touched(self, kind: str) -> None:
        self._stale = True

    def _ticking(self) -> bool:
        """Whether the target's time passes by itself during the run."""
        return self._clock.name in ("real", "off")

    def _current(self, account: Account) -> _Shared:
        if self._stale:  # tokens may be past their life, or the account re-keyed
            self._stale = False
            for email in list(self._shared):
                self._drop(email)
        shared = self._shared.get(account.email)
        if shared is not None and self._ticking() and abs(self._clock.now() - shared.issued_at) > MAX_AGE_SECONDS:
            self._drop(account.email)
            shared = None
        if shared is not None and shared.known_good != self._revoking:
            seen = self._revoking
            if shared.session.get("/me").status_code == 200:
                shared.known_good = seen
            else:
                del self._shared[account.email]  # dead already: nothing to log out
                shared = None
        if shared is not None:
            self.lent += 1
            return shared
        session = self._registry.login(account)
        lent = LentSession(
            session.target, session.account, session.access_token, session.refresh_token, session.login_body
        )
        shared = _Shared(lent, self._clock.now() if self._ticking() else 0.0, self._revoking)
        self._shared[account.email] = shared
        return shared

    def _drop(self, email: str) -> None:
        shared = self._shared.pop(email, None)
        if shared is not None:
            log_out_for_good(shared.session)


def needs_own_login(item: pytest.Item) -> bool:
    """Whether a check keeps a login of its own (see the module's docstring)."""
    if OWN_LOGIN_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    declared = item.config.stash.get(declared_key, {})
    # its requirement's declaration, or that of the one its `disturbs_like` names
    # (harness/phases.py reads both the same way)
    for name in ("requirement", "disturbs_like"):
        marker = item.get_closest_marker(name)
        if marker is not None and declared.get(marker.args[0]):
            return True
    return False
