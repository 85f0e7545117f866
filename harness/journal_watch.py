"""Write-ahead journaling of every request that changes a remote target's state.

`JournalingTransport` sits over the recording transport of the target's one
client, so every request the harness sends passes it: the fixtures' keys and
projects, the schema fuzzer's generated requests, the checks' own direct
calls, the 2FA flows. Hooking here rather than each helper that creates
something means a new check that POSTs `/api-keys` itself is journaled too.

- `POST /api-keys`, `POST /projects`: before, a pending entry (account,
  name, the target's time); a 201 fills in the id, another 2xx leaves it
  pending, any other answer drops it.
- `POST /auth/2fa/enable`: before, an entry with the secret of the account's
  last setup answer; a 2xx marks it on, any other answer drops it.
- `DELETE /api-keys/{id}`, `/projects/{id}`: a 204, or a 404 to the object's
  own account, drops its entry.
- `POST /auth/2fa/disable`: a 2xx drops the account's 2FA entry.

A request that never got an answer (timeout, reset, signal) leaves its entry:
the object may exist. To know a request's account, the tokens and keys the
target issues are mapped to the account they were issued to, in memory only
(`POST /auth/login`, `/auth/refresh`, `/api-keys` answers).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from bsk_conformance.harness.journal import Journal
from bsk_conformance.harness.timestamps import format_rfc3339, parse_rfc3339

# the longest name kept as written; a longer one (an oversized-body check's
# 1 MiB name) is kept as its SHA-256, which recovery compares the same way
NAME_CAP = 200
# seconds a pending entry's time is moved back: the target's clock may lag
# the moment the harness last saw it, and a created object must still match
CLOCK_SKEW = 120.0
_CREATED = {"/api-keys": "api-key", "/projects": "project"}

Completion = Callable[[httpx.Response | None], None]


class JournalWatch:
    """Turns requests into journal entries for one process."""

    def __init__(self, journal: Journal, base_url: str) -> None:
        self.journal = journal
        self._base_path = urlsplit(base_url).path.rstrip("/")
        self._lock = threading.Lock()
        self._accounts: dict[str, str] = {}  # access/refresh token or API key -> email (never written)
        self._setup_secrets: dict[str, str] = {}  # email -> secret of its last 2FA setup answer
        self._objects: dict[tuple[str, str], tuple[str, str | None]] = {}  # (kind, id) -> (entry id, account)
        self._two_factor: dict[str, str] = {}  # email -> entry id, 2FA on or being turned on
        self._target_now: float | None = None  # the target's time, as last seen on /_test/clock

    # -- called by the transport --------------------------------------------

    def before(self, request: httpx.Request) -> Completion | None:
        """Journal what the request will need undone; what to call with its answer."""
        path = self._relative(request.url.path)
        method = request.method.upper()
        if method == "POST" and path in _CREATED:
            return self._before_create(request, _CREATED[path])
        if method == "POST" and path == "/auth/2fa/enable":
            return self._before_enable(request)
        return None

    def after(self, request: httpx.Request, response: httpx.Response) -> None:
        """Learn from an answer: who a token belongs to, what is gone, the target's time."""
        path = self._relative(request.url.path)
        method, status = request.method.upper(), response.status_code
        if method == "DELETE" and status in (204, 404):
            collection, _, object_id = path.rpartition("/")
            if collection in _CREATED:
                self._deleted((_CREATED[collection], object_id), status, self.account_of(request))
            return
        if status // 100 != 2:
            return
        if path == "/_test/clock":
            self._saw_clock(response)
        elif method != "POST":
            return
        elif path == "/auth/login":
            self._issued(response, _json(request).get("email"))
        elif path == "/auth/refresh":
            self._issued(response, self._account_of_token(_json(request).get("refreshToken")))
        elif path == "/auth/2fa/setup":
            account, secret = self.account_of(request), _json(response).get("secret")
            if account is not None and isinstance(secret, str):
                with self._lock:
                    self._setup_secrets[account] = secret
        elif path == "/auth/2fa/disable":
            account = self.account_of(request)
            if account is not None:
                with self._lock:
                    entry = self._two_factor.pop(account, None)
                self._forget(entry)

    # -- creations ----------------------------------------------------------

    def _before_create(self, request: httpx.Request, kind: str) -> Completion:
        account = self.account_of(request)
        entry_id = self.journal.add(kind, account, state="pending", notBefore=self._not_before(), **_name(request))

        def done(response: httpx.Response | None) -> None:
            if response is None:
                return  # no answer: it may exist; recovery looks for it by name
            if response.status_code // 100 != 2:
                self.journal.remove(entry_id)
                return
            body = _json(response)
            object_id = body.get("id")
            if response.status_code != 201 or not isinstance(object_id, (str, int)):
                return  # created, but not said how: stays pending, found by name
            if kind == "api-key" and isinstance(body.get("key"), str) and account is not None:
                with self._lock:
                    self._accounts[body["key"]] = account
            self.journal.update(entry_id, state="created", objectId=str(object_id))
            with self._lock:
                self._objects[(kind, str(object_id))] = (entry_id, account)

        return done

    def _before_enable(self, request: httpx.Request) -> Completion | None:
        account = self.account_of(request)
        with self._lock:
            secret = self._setup_secrets.get(account or "")
            already = account in self._two_factor
        if account is None or secret is None or already:
            return None  # unknown account or secret: nothing recovery could do; on already: kept as it is
        entry_id = self.journal.add("two-factor", account, state="pending", totpSecret=secret)
        with self._lock:
            self._two_factor[account] = entry_id

        def done(response: httpx.Response | None) -> None:
            if response is None:
                return  # it may be on: recovery finds out by logging in without a code
            if response.status_code // 100 == 2:
                self.journal.update(entry_id, state="on")
                return
            with self._lock:
                self._two_factor.pop(account, None)
            self.journal.remove(entry_id)

        return done

    def _deleted(self, key: tuple[str, str], status: int, account: str | None) -> None:
        """204: gone. 404: gone only when its own account asked; another
        organization's 404 (contract §8) says nothing about the object."""
        with self._lock:
            known = self._objects.get(key)
            if known is None or (status == 404 and (account is None or account != known[1])):
                return
            del self._objects[key]
        self.journal.remove(known[0])

    def _forget(self, entry_id: str | None) -> None:
        if entry_id is not None:
            self.journal.remove(entry_id)

    # -- whose request ------------------------------------------------------

    def account_of(self, request: httpx.Request) -> str | None:
        """The email of the account whose token or key the request carries, if the harness saw it issued."""
        credential = request.headers.get("x-api-key")
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            credential = authorization[7:].strip()
        return self._account_of_token(credential)

    def _account_of_token(self, credential: object) -> str | None:
        if not isinstance(credential, str):
            return None
        with self._lock:
            return self._accounts.get(credential)

    def _issued(self, response: httpx.Response, account: object) -> None:
        if not isinstance(account, str):
            return
        body = _json(response)
        with self._lock:
            for name in ("accessToken", "refreshToken"):
                if isinstance(body.get(name), str):
                    self._accounts[body[name]] = account.strip().lower()

    # -- the target's time --------------------------------------------------

    def _saw_clock(self, response: httpx.Response) -> None:
        try:
            moment = parse_rfc3339(_json(response)["now"])
        except (KeyError, ValueError, TypeError):
            return
        with self._lock:
            self._target_now = moment

    def _not_before(self) -> str:
        """The earliest createdAt an object of a pending entry may carry: the
        target's time as last seen (a test clock may be days ahead of ours,
        and one frozen between advances never moves), else ours; less the skew."""
        with self._lock:
            now = self._target_now if self._target_now is not None else time.time()
        return format_rfc3339(now - CLOCK_SKEW)

    def _relative(self, path: str) -> str:
        if self._base_path and path.startswith(self._base_path):
            path = path[len(self._base_path) :]
        return "/" + path.strip("/")


class JournalingTransport(httpx.BaseTransport):
    """Journals a state-changing request before the transport it wraps sends it."""

    def __init__(self, inner: httpx.BaseTransport, watch: JournalWatch) -> None:
        self._inner = inner
        self._watch = watch

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        done = self._watch.before(request)
        response = self._inner.handle_request(request)  # no answer: the entry stays
        response.read()  # the recording layer has read it already: no I/O
        self._watch.after(request, response)
        if done is not None:
            done(response)
        return response

    def close(self) -> None:
        self._inner.close()


def _name(request: httpx.Request) -> dict[str, Any]:
    """How recovery recognises the object if its id never came back."""
    name = _json(request).get("name")
    if not isinstance(name, str):
        return {}
    if len(name) <= NAME_CAP:
        return {"name": name}
    return {"nameSha256": hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()}


def _json(message: httpx.Request | httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(message.content)
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}
