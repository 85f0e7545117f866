"""The fuzzer: sends schemathesis cases through the harness's recording
client, with credentials of every kind, and cleans up after itself.

Every exchange goes into the run's evidence and passes its one redactor like
any other check's.

What the fuzzer must never do to the target's accounts:
- lock them: `POST /auth/login` with wrong passwords for a profile account
  would trip the login throttle (contract §5) and break every later check
  that logs in. Generated login bodies never carry a profile email (it is
  replaced by an address at `.invalid`, RFC 2606); the stateful run logs in
  with the real credentials, so its logins succeed.
- change their 2FA: a generated six-digit `code` on `/auth/2fa/enable` could,
  once in a million, be right and turn 2FA on with a secret the harness does
  not know. No generated code is ever six digits (see below: its first
  character is replaced).
- end the harness's own sessions: the fuzzer logs in for itself and only
  ever sends its own tokens; generated `refreshToken`s are random.
- leave things behind: keys and projects it creates are deleted (by the
  harness's `Resources`, as any check's), and its sessions logged out, when
  it is done.

And what it must never do to the run's reports: the redactor learns the value
of every secret-named field it sees (`password`, `code`, `refreshToken`, ...)
as a secret and redacts it everywhere afterwards. Hypothesis draws some
strings from the constants of the project's own source ("/auth/login",
"projects:read", 604800), so a generated password "/auth/login" would blank
that path out of every later report line. Generated values of such fields
are made unlike any other text first (`unshare_secrets`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from bsk_conformance.harness.api import SCOPES, SECRET_FIELDS, Account, Resources

from ._fuzz_document import operation_key

NOBODY = "nobody@bsk-conformance.invalid"
# The shortest value the redactor learns as a secret (harness.evidence).
SHORTEST_SECRET = 6
# Replaces the first character of a generated secret-named string value.
UNSHARED_MARK = "\u2063"  # INVISIBLE SEPARATOR: in no other text of the run
UNSHARED_INTEGER = 7_340_000_000_000_000_000


class Fuzzer:
    """Sends cases as the fuzzer's own account, with each kind of credential."""

    def __init__(self, target, registry, account: Account, resources: Resources) -> None:
        self.target = target
        self.registry = registry
        self.account = account
        self.resources = resources
        self.session = None
        self.credentials: dict[str, dict[str, str]] = {"no credentials": {}}
        self._protected = {a.email.strip().lower() for a in target.profile.accounts}
        self._sessions: list[tuple[str, str]] = []  # (access, refresh) to log out

    def open(self) -> None:
        self.session = self.registry.login(self.account)
        self._sessions.append((self.session.access_token, self.session.refresh_token))
        self.credentials["a user's bearer token"] = {"Authorization": f"Bearer {self.session.access_token}"}
        for name, scopes in (("an all-scopes key", SCOPES), ("a key without scopes", [])):
            created = self.resources.create_key(
                self.session, scopes=scopes, rate_limit=10_000, name="bsk-conformance-fuzz"
            )
            self.credentials[name] = {"X-API-Key": created["key"]}

    def log_out(self) -> None:
        """End every session the fuzzer opened (best effort)."""
        for access, refresh in self._sessions:
            self.target.post("/auth/logout", bearer=access, json={"refreshToken": refresh})

    def send(self, case, headers: dict[str, str], note: str, *, generated: bool = True) -> httpx.Response:
        """Send one case; `generated=False` for a body the harness wrote itself
        (the stateful run's real logins), which is sent as it is."""
        if generated:
            self._protect(case)
        kwargs = case.as_transport_kwargs(base_url=self.target.base_url, headers=headers)
        body: dict[str, Any] = {}
        if "json" in kwargs:
            body["json"] = kwargs["json"]
        elif "data" in kwargs:
            data = kwargs["data"]
            body["content"] = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        with self.target.evidence.note(note):
            response = self.target.client.request(
                kwargs["method"], kwargs["url"], headers=kwargs["headers"], params=kwargs.get("params") or None, **body
            )
        self._remember(case, response)
        return response

    def _protect(self, case) -> None:
        """The rules of the module docstring, applied to a generated case."""
        method, path = operation_key(case.method, case.path)
        if isinstance(case.body, (dict, list)):
            case.body = unshare_secrets(case.body)
        if not isinstance(case.body, dict):
            return
        if (method, path) == ("POST", "/auth/login"):
            email = case.body.get("email")
            if isinstance(email, str) and email.strip().lower() in self._protected:
                case.body = {**case.body, "email": NOBODY}

    def _remember(self, case, response: httpx.Response) -> None:
        """What to clean up: created keys and projects, opened sessions."""
        method, path = operation_key(case.method, case.path)
        if response.status_code not in (200, 201):
            return
        try:
            body = response.json()
        except ValueError:
            return
        if not isinstance(body, dict):
            return
        if (method, path, response.status_code) == ("POST", "/api-keys", 201) and "id" in body:
            self.target.secret(body.get("key"), "api-key")
            self.resources.adopt(self.session, response)
        elif (method, path, response.status_code) == ("POST", "/projects", 201) and "id" in body:
            self.resources.adopt(self.session, response, project=True)
        elif (method, path) in (("POST", "/auth/login"), ("POST", "/auth/refresh")) and response.status_code == 200:
            access, refresh = body.get("accessToken"), body.get("refreshToken")
            if isinstance(access, str) and isinstance(refresh, str):
                self._sessions.append((access, refresh))


def unshare_secrets(value: Any, secret: bool = False) -> Any:
    """`value` with each generated value of a secret-named field (as the
    redactor reads them: strings and integers of 6+ characters) made unlike
    any other text, keeping its type: a string's first character becomes
    UNSHARED_MARK (same length), an integer becomes a 19-digit one of the
    same sign."""
    if isinstance(value, dict):
        return {k: unshare_secrets(v, isinstance(k, str) and k.lower() in SECRET_FIELDS) for k, v in value.items()}
    if isinstance(value, list):
        return [unshare_secrets(v) for v in value]
    if not secret or isinstance(value, bool):
        return value
    if isinstance(value, str) and len(value) >= SHORTEST_SECRET:
        return UNSHARED_MARK + value[1:]
    if isinstance(value, int) and len(str(value)) >= SHORTEST_SECRET:
        return UNSHARED_INTEGER + abs(value) % 1000 if value > 0 else -UNSHARED_INTEGER - abs(value) % 1000
    return value


@contextmanager
def fuzzing(target, registry, account: Account) -> Iterator[Fuzzer]:
    """A fuzzer for `account`; what it made is deleted, then its sessions end."""
    fuzzer: Fuzzer | None = None
    try:
        with Resources.cleaning_up(target, registry, "schema fuzzing") as resources:
            fuzzer = Fuzzer(target, registry, account, resources)
            fuzzer.open()
            yield fuzzer
    finally:
        if fuzzer is not None:
            fuzzer.log_out()
