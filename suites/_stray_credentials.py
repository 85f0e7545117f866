"""Credentials where none should be: a scanner of every answer, and the trial
of what it finds against the API itself.

Contract §3 puts a credential in exactly three answers: the 200 of
`POST /auth/login` and `POST /auth/refresh` (`accessToken`, `refreshToken`)
and the 201 of `POST /api-keys` (`key`). `POST /auth/2fa/setup` shows a TOTP
secret, which is no credential for any endpoint. Anything else shaped like a
token or a key, in any body or header of any other answer (or in another
field of those three), is a candidate: tried once against `GET /me` as a
bearer token and as `X-API-Key`, and, when it is a token never seen before
(nobody holds it, so rotating it disturbs nobody), against
`POST /auth/refresh`. One that authenticates is a credential the answer
should never have held; the rule broken is the one of that answer's kind
(`rule_of`).

Shapes (`candidates`): a JWT; a `bsk_test_`/`bsk_live_` key; and, where the
contract puts no credential at all (error bodies, logout's answer, headers
that carry credentials, body fields named like one), any opaque run of 32 or
more token characters. Ids (`key_…`, `prj_…`, uuids) are opaque runs too: in
an error body they are tried, once each, and refused. A string the request
itself carried is never a candidate (echoing what the client sent is
BSK-SEC-003's rule). Trials are few: one per distinct string, at most
`MAX_TRIALS` per process; each trial string is registered with the redactor
before it is sent, so the evidence shows its fingerprint only.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from bsk_conformance.harness.api import RawExchange, Redactor

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_KEY = re.compile(r"bsk_(?:test|live)_[A-Za-z0-9]{32,}")
_OPAQUE = re.compile(r"[A-Za-z0-9_\-.~+/]{32,}=*")
#: header names whose values may carry a credential
_CREDENTIAL_HEADER = re.compile(r"authenticate|authorization|token|session|cookie|credential|api-key|apikey|secret",
                                re.IGNORECASE)
#: body field names of a credential
_CREDENTIAL_FIELD = re.compile(r"token|secret|session|credential|bearer|^key$|apikey|api_key", re.IGNORECASE)

#: (method, path ending, status) -> the fields of that answer where the contract puts a credential
EXPECTED = {
    ("POST", "/auth/login", 200): ("accessToken", "refreshToken"),
    ("POST", "/auth/refresh", 200): ("accessToken", "refreshToken"),
    ("POST", "/api-keys", 201): ("key",),
    ("POST", "/auth/2fa/setup", 200): ("secret", "otpauthUri"),
}

LOGIN_REFUSED = "BSK-LEAK-001"
ERROR_ANSWER = "BSK-LEAK-002"
LOGOUT_ANSWER = "BSK-LEAK-003"
OTHER_SUCCESS = "BSK-LEAK-004"
MAX_TRIALS = 60
MAX_FINDINGS = 100


def rule_of(method: str, path: str, status: int) -> str:
    """The requirement an answer of this kind breaks by holding a working credential."""
    if method == "POST" and path.endswith("/auth/login") and status == 401:
        return LOGIN_REFUSED
    if status >= 400:
        return ERROR_ANSWER
    if method == "POST" and path.endswith("/auth/logout"):
        return LOGOUT_ANSWER
    return OTHER_SUCCESS


@dataclass(frozen=True)
class Candidate:
    value: str
    shape: str  # "jwt", "key" or "opaque"
    rule: str
    check: str
    answer: str  # "POST /auth/login -> HTTP 401, the body field mfaToken"
    new: bool  # never seen in an answer where the contract puts a credential


@dataclass(frozen=True)
class Finding:
    rule: str
    check: str
    answer: str
    works_as: str  # "a bearer token for GET /me (type user)", ...
    fingerprint: str


def candidates(text: str, *, opaque: bool) -> Iterator[tuple[str, str]]:
    """(string, shape) of each token- or key-shaped string in `text`."""
    seen: set[str] = set()
    for shape, pattern in (("jwt", _JWT), ("key", _KEY)) + ((("opaque", _OPAQUE),) if opaque else ()):
        for match in pattern.finditer(text):
            value = match.group(0)
            if value not in seen and not any(value in other for other in seen):
                seen.add(value)
                yield value, shape


def _fields(value: object, name: str = "") -> Iterator[tuple[str, str]]:
    """(field name, string) of every string in a JSON value."""
    if isinstance(value, str):
        yield name, value
    elif isinstance(value, dict):
        for member, inner in value.items():
            yield from _fields(inner, str(member))
    elif isinstance(value, list):
        for inner in value:
            yield from _fields(inner, name)


class StrayCredentialScanner:
    """Watches raw exchanges (`EvidenceLog.observe`), keeps candidates until a
    check's end (`trial`), and what authenticated (`findings`)."""

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._lock = threading.Lock()
        self._pending: list[Candidate] = []
        self._tried: set[str] = set()
        self._issued: set[str] = set()  # credentials seen where the contract puts them
        self._trying = False
        self._absorbed: set[str] = set()
        self.trials = 0
        self.findings: list[Finding] = []
        self.problems: list[str] = []

    # -- watching ---------------------------------------------------------------

    def observe(self, raw: RawExchange) -> None:
        if self._trying or raw.status is None:
            return
        try:
            self._observe(raw)
        except Exception as exc:  # an observer must never break the request it watches
            with self._lock:
                self.problems.append(f"{type(exc).__name__}: {exc}")

    def _observe(self, raw: RawExchange) -> None:
        method, path, status = raw.method.upper(), urlsplit(raw.url).path.rstrip("/"), raw.status or 0
        sent = raw.url + "\n" + raw.request_body.decode("utf-8", "replace") + "\n" + "\n".join(
            value for _, value in raw.request_headers.multi_items())
        expected = next((fields for (m, end, s), fields in EXPECTED.items()
                         if m == method and s == status and path.endswith(end)), ())
        rule = rule_of(method, path, status)
        nowhere = status >= 400 or rule == LOGOUT_ANSWER  # the contract puts no credential at all here
        places: list[tuple[str, str, bool]] = []
        body = raw.response_body.decode("utf-8", "replace")
        try:
            document = json.loads(body) if body.strip() else None
        except ValueError:
            document = None
        if document is None:
            places.append(("the body", body, nowhere))
        else:
            for field, value in _fields(document):
                if field in expected:
                    with self._lock:
                        self._issued.add(value)
                    continue
                places.append((f"the body field {field or '(top level)'}", value,
                               nowhere or bool(_CREDENTIAL_FIELD.search(field))))
        for name, value in raw.response_headers.multi_items():
            places.append((f"the header {name}", value, bool(_CREDENTIAL_HEADER.search(name))))
        check = os.environ.get("PYTEST_CURRENT_TEST", "outside any check").rsplit(" ", 1)[0]
        for where, text, opaque in places:
            for value, shape in candidates(text, opaque=opaque):
                if value in sent:
                    continue
                self._keep(Candidate(value, shape, rule, check, f"{method} {path} -> HTTP {status}, {where}",
                                     new=value not in self._issued))

    def _keep(self, candidate: Candidate) -> None:
        with self._lock:
            if candidate.value in self._tried or any(c.value == candidate.value for c in self._pending):
                return
            if len(self._tried) + len(self._pending) < MAX_TRIALS:
                self._pending.append(candidate)

    # -- trying -----------------------------------------------------------------

    def trial(self, target) -> list[Finding]:
        """Try every pending candidate; the ones that authenticate, as findings."""
        with self._lock:
            pending, self._pending = self._pending, []
            self._tried.update(c.value for c in pending)
        found = []
        for candidate in pending:
            self._redactor.register(candidate.value, "token")
            works = self._works(target, candidate)
            if works is not None:
                found.append(Finding(candidate.rule, candidate.check, candidate.answer, works,
                                     self._redactor.fingerprint(candidate.value, "token")))
        with self._lock:
            self.findings.extend(found[:max(0, MAX_FINDINGS - len(self.findings))])
        return found

    def _works(self, target, candidate: Candidate) -> str | None:
        self._trying = True
        try:
            with target.evidence.note(f"is the string in {candidate.answer} a working credential?"):
                for how, auth in (("bearer", {"bearer": candidate.value}), ("X-API-Key", {"api_key": candidate.value})):
                    if how == "bearer" and candidate.shape == "key":
                        continue
                    self.trials += 1
                    answer = target.get("/me", **auth)
                    if answer.status_code == 200:
                        return f"a credential for GET /me as {how} ({_identity(answer)})"
                if candidate.shape != "key" and candidate.new:
                    self.trials += 1
                    answer = target.post("/auth/refresh", json={"refreshToken": candidate.value})
                    if answer.status_code == 200:
                        _log_out(target, answer)
                        return "a live refresh token (POST /auth/refresh answered 200; the new pair was logged out)"
            return None
        finally:
            self._trying = False

    # -- a run of several processes (pytest-xdist) --------------------------------

    def export(self) -> dict:
        with self._lock:
            return {"trials": self.trials, "findings": [dataclasses.asdict(f) for f in self.findings],
                    "problems": list(self.problems)}

    def absorb(self, exported: dict, source: str) -> None:
        """Add another xdist worker's findings (its `export`, from `source`), once."""
        with self._lock:
            if source in self._absorbed:
                return
            self._absorbed.add(source)
            self.trials += int(exported.get("trials", 0))
            self.problems.extend(exported.get("problems", []))
            for finding in exported.get("findings", []):
                if Finding(**finding) not in self.findings and len(self.findings) < MAX_FINDINGS:
                    self.findings.append(Finding(**finding))

    def of_rule(self, rule: str) -> list[Finding]:
        with self._lock:
            return [finding for finding in self.findings if finding.rule == rule]


def describe_findings(findings: list[Finding], limit: int = 5) -> str:
    shown = [f"{f.check}: {f.answer} held {f.fingerprint}, {f.works_as}" for f in findings[:limit]]
    more = len(findings) - limit
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def _identity(answer) -> str:
    try:
        body = answer.json()
    except ValueError:
        return "an answer that is not JSON"
    if not isinstance(body, dict):
        return "an answer that is not an object"
    return f"type {body.get('type')!r}, organization {body.get('organizationId')!r}"


def _log_out(target, answer) -> None:
    try:
        pair = answer.json()
        target.post("/auth/logout", json={"refreshToken": pair.get("refreshToken")}, bearer=pair.get("accessToken"))
    except (ValueError, AttributeError):
        pass
