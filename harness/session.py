"""Logged-in users, and the keys and projects a check creates and must remove."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyotp

from bsk_conformance.harness.contract import TOTP_STEP
from bsk_conformance.harness.expect import describe, expect_json_object, expect_status, fail
from bsk_conformance.harness.profile import Account
from bsk_conformance.harness.target import Target, Verbs
from bsk_conformance.harness.verdicts import CleanupFailed


@dataclass
class UserSession(Verbs):
    """A user logged in with a bearer token (contract §3 `/auth/login`)."""

    target: Target
    account: Account
    access_token: str
    refresh_token: str
    login_body: dict

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.target.request(method, path, bearer=self.access_token, **kwargs)

    def logout(self) -> httpx.Response:
        return self.post("/auth/logout", json={"refreshToken": self.refresh_token})


def session_from_login(target: Target, account: Account, response: httpx.Response) -> UserSession:
    """A session from a login answer, or CheckFailed naming what was wrong."""
    expect_status(response, 200, context=f"login as {account.email}")
    body = expect_json_object(response, f"login as {account.email}")
    access, refresh = body.get("accessToken"), body.get("refreshToken")
    if not isinstance(access, str) or not isinstance(refresh, str):
        fail("accessToken and refreshToken strings", describe(response), f"login as {account.email}")
    return UserSession(target, account, access, refresh, body)


def logged_in(registry: TwoFactorRegistry, account: Account) -> Iterator[UserSession]:
    """A fixture's life of a login: the session, then a logout."""
    session = registry.login(account)
    yield session
    log_out_for_good(session)


def log_out_for_good(session: UserSession) -> None:
    """Best effort: revoke the session's refresh token. After a clock move past
    the access token's life the logout (bearer) is refused: the refresh token,
    still live for days, is rotated once and the new pair logged out, so no
    credential the run made is left usable. A token the check already rotated
    or logged out is refused, and that is the end of it."""
    try:
        answer = UserSession.logout(session)
        if answer.status_code != 401:
            return
        rotated = session.target.refresh(UserSession.__getattribute__(session, "refresh_token"))
        if rotated.status_code == 200:
            body = rotated.json()
            session.target.post("/auth/logout", json={"refreshToken": body["refreshToken"]}, bearer=body["accessToken"])
    except Exception:
        pass


class TwoFactorRegistry:
    """Which accounts have 2FA on, and their secrets: every fresh login of such
    an account needs a code from an unused TOTP step."""

    def __init__(self, target: Target, clock) -> None:
        self._target = target
        self._clock = clock
        self._secrets: dict[str, str] = {a.email: a.totp_secret for a in target.profile.accounts if a.totp_secret}
        self._last_step: dict[str, int] = {}

    def secret(self, account: Account) -> str | None:
        return self._secrets.get(account.email)

    def set(self, account: Account, secret: str | None) -> None:
        if secret is None:
            self._secrets.pop(account.email, None)
        else:
            self._target.evidence.redactor.register(secret, "totp-secret")
            self._secrets[account.email] = secret

    def now(self) -> float:
        """The target's notion of now, which TOTP codes are computed for."""
        return self._clock.now()

    def last_step(self, account: Account) -> int | None:
        """The latest TOTP step this run may have spent for the account."""
        return self._last_step.get(account.email)

    def spend(self, account: Account, step: int) -> None:
        """Count `step` as spent, before a code of it is sent that the target
        may accept: a server that accepts a step refuses it and every earlier
        one afterwards, so `next_code` must move past it."""
        self._last_step[account.email] = max(step, self._last_step.get(account.email, step))

    def next_code(self, account: Account, secret: str | None = None) -> str:
        """A code from a TOTP step this account has not used yet.

        A server accepts each step at most once per account (login, enable and
        disable alike), so the clock moves to the next step boundary whenever
        the current step was already spent in this run."""
        secret = secret or self._secrets[account.email]
        step = int(self._clock.now() // TOTP_STEP)
        last = self._last_step.get(account.email)
        if last is not None and step <= last:
            self._clock.advance((last + 1) * TOTP_STEP - self._clock.now())
            step = int(self._clock.now() // TOTP_STEP)
        self._last_step[account.email] = step
        return pyotp.TOTP(secret).at(self._clock.now())

    def login(self, account: Account) -> UserSession:
        code = self.next_code(account) if self.secret(account) else None
        return session_from_login(self._target, account, self._target.login(account, code))


@dataclass
class Resources:
    """Keys and projects a check creates, deleted again when it ends."""

    target: Target
    registry: TwoFactorRegistry
    _keys: list[tuple[Account, str]] = field(default_factory=list)
    _projects: list[tuple[Account, str]] = field(default_factory=list)
    _sessions: dict[str, UserSession] = field(default_factory=dict)

    @staticmethod
    def unique_name(stem: str = "bsk-conformance") -> str:
        return f"{stem}-{secrets.token_hex(4)}"

    def create_key_response(self, session: UserSession, **body: Any) -> httpx.Response:
        """POST /api-keys with exactly `body` (Python names are not renamed)."""
        response = session.post("/api-keys", json=body)
        self._remember(response, session, self._keys)
        return response

    def create_key(
        self,
        session: UserSession,
        *,
        scopes: list[str] | tuple[str, ...] = (),
        rate_limit: int | None = None,
        expires_at: str | None = None,
        name: str | None = None,
    ) -> dict:
        body: dict[str, Any] = {"name": name or self.unique_name(), "scopes": list(scopes)}
        if rate_limit is not None:
            body["rateLimit"] = rate_limit
        if expires_at is not None:
            body["expiresAt"] = expires_at
        response = self.create_key_response(session, **body)
        expect_status(response, 201, context="create an API key (POST /api-keys)")
        created = expect_json_object(response, "create an API key")
        if not isinstance(created.get("key"), str) or not isinstance(created.get("id"), str):
            fail("a created key with string id and key", describe(response), "create an API key")
        self.target.evidence.redactor.register(created["key"], "api-key")
        return created

    def create_project(self, session: UserSession, name: str | None = None, **auth: Any) -> dict:
        response = session.post("/projects", json={"name": name or self.unique_name("project")}, **auth)
        expect_status(response, 201, context="create a project (POST /projects)")
        created = expect_json_object(response, "create a project")
        self._remember(response, session, self._projects)
        return created

    def forget_key(self, key_id: str) -> None:
        """The check deleted it itself."""
        self._keys = [(a, i) for a, i in self._keys if i != key_id]

    @classmethod
    @contextmanager
    def cleaning_up(cls, target: Target, registry: TwoFactorRegistry, what: str = "the check") -> Iterator[Resources]:
        """Resources for `what` to create, deleted when it ends, however it ends."""
        made = cls(target, registry)
        try:
            yield made
        finally:
            problems = made.cleanup()
            if problems:
                raise CleanupFailed(f"could not delete what {what} created: " + "; ".join(problems))

    def adopt(self, session: UserSession, created: httpx.Response, *, project: bool = False) -> None:
        """A key (or project) created by a request the check made itself, as
        `session`'s account: deleted at cleanup like the rest."""
        self._remember(created, session, self._projects if project else self._keys)

    def _remember(self, response: httpx.Response, session: UserSession, into: list) -> None:
        if response.status_code == 201:
            try:
                into.append((session.account, str(response.json()["id"])))
            except (ValueError, KeyError, TypeError):
                pass
            self._sessions[session.account.email] = session

    def cleanup(self) -> list[str]:
        """Delete what the check made; a 404 means it is gone already."""
        problems: list[str] = []
        for collection, path in ((self._keys, "/api-keys"), (self._projects, "/projects")):
            for account, item_id in reversed(collection):
                session = self._sessions.get(account.email)
                response = session.delete(f"{path}/{item_id}") if session else None
                if response is None or response.status_code == 401:
                    # the check moved the clock past the token's life: log in again
                    session = self.registry.login(account)
                    self._sessions[account.email] = session
                    response = session.delete(f"{path}/{item_id}")
                if response.status_code not in (204, 404):
                    problems.append(f"DELETE {path}/{{id}} answered HTTP {response.status_code}")
            collection.clear()
        return problems
