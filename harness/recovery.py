"""Undoing what the recovery journal lists for a target (harness/journal.py).

A remote run's preflight calls `recover` before it logs anyone in (an
account left with 2FA on answers a login without a code with 401
`two_factor_required`); `bsk-conformance cleanup` calls it on demand. Only
entries whose owner process is dead are touched. Every exchange goes through
the target's recording client: its deadline, size cap and redaction hold.

The rule for each entry:
- undone (204, or 2FA shown off by a login without a code): dropped;
- already gone (404 to its own account; 2FA found off): dropped, said in one line;
- refused (any other answer, no answer, a login that fails): kept for the
  next run to retry, said in one line;
- a pending key or project (the run died before its 201): every object of
  that kind, account and exact name created at or after the entry's time
  (less a skew) is deleted, and the line says it was matched by name.
  Without a name to match it by, it cannot be identified: dropped, said.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bsk_conformance.harness.clock import ClockStrategy, ControlClockStrategy, RealClockStrategy
from bsk_conformance.harness.contract import TOTP_STEP
from bsk_conformance.harness.journal import Journal
from bsk_conformance.harness.profile import Account
from bsk_conformance.harness.session import TwoFactorRegistry
from bsk_conformance.harness.target import Target
from bsk_conformance.harness.timestamps import parse_rfc3339
from bsk_conformance.harness.verdicts import CheckFailed, NotVerified

PREFIX = "bsk-conformance:"
_PATHS = {"api-key": "/api-keys", "project": "/projects"}
_WORDS = {"api-key": ("API key", "API keys"), "project": ("project", "projects")}
# real waiting allowed to turn 2FA off without clock control: the login's
# step may be spent already, the disable needs a later one, and the run that
# follows a step none of them spent
_REAL_WAIT = 3 * TOTP_STEP + 5


class _Refused(Exception):
    """The target would not undo an entry: the message says what it answered."""


@dataclass
class Recovery:
    """What one recovery did: counts for the summary, and a line for each
    entry that was already gone, matched by name, or could not be undone."""

    deleted: dict[str, int] = field(default_factory=dict)
    two_factor_off: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kept: int = 0
    live: int = 0  # entries of runs still alive, left alone

    @property
    def ok(self) -> bool:
        return self.kept == 0

    def lines(self, journal: Journal) -> list[str]:
        done = [
            f"deleted {n} {_WORDS[kind][n != 1]}" for kind in ("api-key", "project") if (n := self.deleted.get(kind))
        ]
        done += [f"turned 2FA off for {email}" for email in self.two_factor_off]
        lines = [f"{PREFIX} recovered from an interrupted run: {', '.join(done)}"] if done else []
        lines += [f"{PREFIX} recovery: {note}" for note in self.notes]
        if self.kept:
            lines.append(f"{PREFIX} recovery: {self.kept} left in {journal.path} for the next run to retry")
        if self.live:
            lines.append(f"{PREFIX} recovery: {self.live} entries belong to a run still in progress: left alone")
        return lines


def recovery_clock(target: Target, mode: str) -> ClockStrategy:
    """The target's clock for TOTP codes: its /_test/clock when it has one and
    `--clock` allows it, else real time (waiting at most two TOTP steps)."""
    if mode in ("auto", "control"):
        try:
            response = target.get("/_test/clock")
            if response.status_code == 200 and "now" in response.json():
                return ControlClockStrategy(target.client)
        except (httpx.HTTPError, ValueError, TypeError, AttributeError):
            pass
    return RealClockStrategy(_REAL_WAIT)


def recover(target: Target, journal: Journal, clock: Callable[[], ClockStrategy], *, own: bool = False) -> Recovery:
    """Undo the orphaned entries of `journal` on `target` (with `own`: this
    process's own, what a run stopped by a signal did not undo in its
    teardown). `clock` is asked only when an account's 2FA must be turned off."""
    entries, live = (journal.own_entries(), 0) if own else journal.adopt_orphans()
    recovery = Recovery(live=live)
    if not entries:
        return recovery
    undo = _Undo(target, journal, recovery, clock)
    # 2FA first: deleting a key needs a login, and that needs 2FA off (or a code)
    for entry in sorted(entries, key=lambda e: e["kind"] != "two-factor"):
        try:
            undo.entry(entry)
        except _Refused as exc:
            recovery.kept += 1
            recovery.notes.append(f"could not undo: {exc}")
        except (httpx.HTTPError, CheckFailed) as exc:  # no answer, or one past --max-response-bytes
            recovery.kept += 1
            recovery.notes.append(f"could not undo {_what(entry)}: no usable answer ({type(exc).__name__})")
        except NotVerified as exc:  # the clock would not move to a fresh TOTP step
            recovery.kept += 1
            recovery.notes.append(f"could not undo {_what(entry)}: {exc}")
    return recovery


class _Undo:
    def __init__(self, target: Target, journal: Journal, recovery: Recovery, clock: Callable[[], ClockStrategy]):
        self.target = target
        self.journal = journal
        self.recovery = recovery
        self._clock_factory = clock
        self._clock: ClockStrategy | None = None
        self._registry: TwoFactorRegistry | None = None
        self._bearers: dict[str, str] = {}  # email -> access token of a recovery login
        self._accounts = {a.email.strip().lower(): a for a in target.profile.accounts}

    def entry(self, entry: dict[str, Any]) -> None:
        if entry["kind"] == "two-factor":
            self.two_factor(entry)
        elif entry.get("objectId") is not None:
            self.delete(entry)
        else:
            self.pending(entry)

    # -- 2FA ----------------------------------------------------------------

    def two_factor(self, entry: dict[str, Any]) -> None:
        account = self._account(entry)
        secret = entry.get("totpSecret")
        if account is None or not isinstance(secret, str):
            raise _Refused(f"2FA of {entry.get('account')}: the journal names no profile account or secret for it")
        self.target.secret(secret, "totp-secret")
        plain = self.target.login(account)
        if plain.status_code == 200:
            self._keep_bearer(account, plain)
            self.recovery.notes.append(f"2FA was already off for {account.email}")
            self.journal.remove(entry["id"])
            return
        if _error(plain) != "two_factor_required":
            raise _Refused(f"2FA of {account.email}: a login without a code answered HTTP {plain.status_code}")
        registry = self._two_factor_registry()
        registry.set(account, secret)
        login = self.target.login(account, registry.next_code(account))
        if login.status_code == 401 and _error(login) == "invalid_two_factor_code":
            # the interrupted run spent this TOTP step: the next one
            login = self.target.login(account, registry.next_code(account))
        if login.status_code != 200:
            raise _Refused(f"2FA of {account.email}: a login with a current code answered HTTP {login.status_code}")
        bearer = _access_token(login)
        disable = self.target.post("/auth/2fa/disable", bearer=bearer, json={"code": registry.next_code(account)})
        if disable.status_code // 100 != 2:
            raise _Refused(f"the target refused to turn 2FA off for {account.email} (HTTP {disable.status_code})")
        registry.set(account, None)
        check = self.target.login(account)
        if check.status_code != 200:
            raise _Refused(
                f"2FA disable for {account.email} answered {disable.status_code}, but a login without a code "
                f"still answers HTTP {check.status_code}"
            )
        self._keep_bearer(account, check)
        self.recovery.two_factor_off.append(account.email)
        self.journal.remove(entry["id"])
        # a server refuses a step once used, even after 2FA is off and on again: move past the
        # steps spent here, so the codes of the run that follows (every worker's) are fresh
        registry.next_code(account, secret)

    def _two_factor_registry(self) -> TwoFactorRegistry:
        if self._registry is None:
            self._clock = self._clock_factory()
            self._registry = TwoFactorRegistry(self.target, self._clock)
        return self._registry

    # -- keys and projects --------------------------------------------------

    def delete(self, entry: dict[str, Any]) -> None:
        """DELETE it as its account (as each profile account when the journal
        does not know whose it is: another organization's answers 404)."""
        kind, object_id = entry["kind"], str(entry["objectId"])
        path = f"{_PATHS[kind]}/{object_id}"
        statuses = []
        for account in self._candidates(entry):
            response = self.target.delete(path, bearer=self._bearer(account))
            statuses.append(response.status_code)
            if response.status_code == 204:
                self._count(kind)
                self.journal.remove(entry["id"])
                return
        if statuses and all(status == 404 for status in statuses):
            self.recovery.notes.append(f"{_what(entry)} was already gone (404)")
            self.journal.remove(entry["id"])
            return
        raise _Refused(f"DELETE {_PATHS[kind]}/{{id}} for {_what(entry)} answered HTTP {statuses[-1]}")

    def pending(self, entry: dict[str, Any]) -> None:
        """A create that never answered: find it by exact name and creation time."""
        kind = entry["kind"]
        matches = _name_matcher(entry)
        if matches is None:
            self.recovery.notes.append(f"{_what(entry)} was sent without a name to find it by: dropped")
            self.journal.remove(entry["id"])
            return
        try:
            since = parse_rfc3339(entry.get("notBefore"))
        except ValueError:
            raise _Refused(f"{_what(entry)}: its journal entry has no readable time") from None
        found = 0
        for account in self._candidates(entry):
            bearer = self._bearer(account)
            listed = self.target.get(_PATHS[kind], bearer=bearer)
            if listed.status_code != 200:
                raise _Refused(f"GET {_PATHS[kind]} for {account.email} answered HTTP {listed.status_code}")
            for item in _items(listed):
                if not matches(item.get("name")) or _created(item) < since:
                    continue
                response = self.target.delete(f"{_PATHS[kind]}/{item.get('id')}", bearer=bearer)
                if response.status_code not in (204, 404):
                    raise _Refused(
                        f"DELETE {_PATHS[kind]}/{{id}} for {_what(entry)} answered HTTP {response.status_code}"
                    )
                found += response.status_code == 204
        if found:
            self.recovery.deleted[kind] = self.recovery.deleted.get(kind, 0) + found
            self.recovery.notes.append(
                f"{_what(entry)} was created by a request that never answered: found by its name and creation "
                f"time, deleted ({found})"
            )
        else:
            since_text = entry["notBefore"]
            self.recovery.notes.append(f"{_what(entry)} was never created (none by its name since {since_text})")
        self.journal.remove(entry["id"])

    # -- logins -------------------------------------------------------------

    def _account(self, entry: dict[str, Any]) -> Account | None:
        email = entry.get("account")
        return self._accounts.get(email.strip().lower()) if isinstance(email, str) else None

    def _candidates(self, entry: dict[str, Any]) -> list[Account]:
        account = self._account(entry)
        return [account] if account is not None else list(self._accounts.values())

    def _bearer(self, account: Account) -> str:
        known = self._bearers.get(account.email)
        if known is not None:
            return known
        code = None
        if account.totp_secret:
            code = self._two_factor_registry().next_code(account, account.totp_secret)
        response = self.target.login(account, code)
        if response.status_code != 200:
            raise _Refused(f"{account.email} cannot log in to undo it (HTTP {response.status_code} {_error(response)})")
        self._keep_bearer(account, response)
        return self._bearers[account.email]

    def _keep_bearer(self, account: Account, login: httpx.Response) -> None:
        self._bearers[account.email] = _access_token(login)

    def _count(self, kind: str) -> None:
        self.recovery.deleted[kind] = self.recovery.deleted.get(kind, 0) + 1


def _name_matcher(entry: dict[str, Any]) -> Callable[[object], bool] | None:
    if isinstance(entry.get("name"), str):
        return lambda name: name == entry["name"]
    if isinstance(entry.get("nameSha256"), str):
        return lambda name: (
            isinstance(name, str)
            and hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest() == entry["nameSha256"]
        )
    return None


def _items(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        data = response.json().get("data")
    except (ValueError, AttributeError):
        return []
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _created(item: dict[str, Any]) -> float:
    try:
        return parse_rfc3339(item.get("createdAt"))
    except ValueError:
        return float("-inf")  # no readable createdAt: never matched by time


def _what(entry: dict[str, Any]) -> str:
    word = _WORDS.get(entry["kind"], ("2FA", "2FA"))[0]
    who = entry.get("account") or "an account of the profile"
    if entry.get("objectId") is not None:
        return f"{word} {str(entry['objectId'])[:80]} of {who}"
    if isinstance(entry.get("name"), str):
        return f"{word} {entry['name'][:60]!r} of {who}"
    return f"{word} of {who}"


def _error(response: httpx.Response) -> str | None:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return None
    return error if isinstance(error, str) else None


def _access_token(response: httpx.Response) -> str:
    try:
        token = response.json()["accessToken"]
    except (ValueError, KeyError, TypeError):
        raise _Refused("a login answered 200 without an accessToken") from None
    if not isinstance(token, str):
        raise _Refused("a login answered 200 without an accessToken")
    return token
