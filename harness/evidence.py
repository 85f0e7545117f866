"""Evidence: every exchange with the target, recorded once and redacted once.

All traffic the harness sends passes through `RecordingTransport` (httpx) or
`EvidenceLog.record_exchange` (schemathesis, which speaks `requests`). Both
hand the raw exchange to the run's single `Redactor` before anything is kept,
so no password, token, key, TOTP secret or code can reach a report, a log or
an assertion message by another path.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

BODY_CAP = 16 * 1024  # bytes of a body kept as evidence; the rest is dropped with a note

# JSON fields whose value is a secret, whatever else they hold, and the kind
# they are filed under in the fingerprint.
SECRET_FIELDS = {
    "password": "password",
    "twofactorcode": "totp-code",
    "code": "totp-code",
    "accesstoken": "access-token",
    "access_token": "access-token",
    "refreshtoken": "refresh-token",
    "refresh_token": "refresh-token",
    "key": "api-key",
    "apikey": "api-key",
    "api_key": "api-key",
    "secret": "totp-secret",
    "totpsecret": "totp-secret",
    "otpauthuri": "totp-uri",
    "token": "token",
}
SECRET_HEADERS = {"authorization", "x-api-key", "cookie", "set-cookie", "proxy-authorization"}
SECRET_QUERY = {"access_token", "api_key", "apikey", "key", "token", "refresh_token", "code"}

# Shapes recognised even when the harness never saw them issued: forged or
# mutated JWTs the attack suites build, and API keys of any prefix.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_API_KEY = re.compile(r"bsk_[A-Za-z]*_?[A-Za-z0-9]{12,}")
_OTPAUTH = re.compile(r"otpauth://[^\s\"'<>]+")
_MIN_SECRET = 6  # shorter strings are not registered: redacting "a" would shred every body


class Redactor:
    """Replaces secrets by stable, non-reversible fingerprints: «kind:1a2b3c4d».

    The fingerprint is an HMAC under a key drawn once per run, so the same
    secret reads the same everywhere in a report (reuse is visible) while
    nothing in the report can be brute-forced back to the secret, not even a
    six-digit TOTP code.
    """

    def __init__(self, run_key: bytes | None = None) -> None:
        self._key = run_key or secrets.token_bytes(32)
        self._secrets: dict[str, str] = {}  # secret -> kind
        # every form a secret may take in a body (raw, JSON-escaped) -> the secret
        self._forms: dict[str, str] = {}
        # longest first, so a token is never half-replaced by a shorter secret inside it
        self._by_length: list[str] = []
        # headers secret by name for this run only (an operator's gateway headers) -> kind
        self._secret_headers: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def run_key(self) -> bytes:
        """The HMAC key; xdist workers get the controller's, so fingerprints match across them."""
        return self._key

    def fingerprint(self, secret: str, kind: str) -> str:
        digest = hmac.new(self._key, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        return f"«{kind}:{digest[:8]}»"

    def register(self, secret: object, kind: str) -> None:
        """Remember a secret so every later occurrence anywhere is redacted."""
        if not isinstance(secret, str) or len(secret) < _MIN_SECRET:
            return
        with self._lock:
            if secret in self._secrets:
                return
            self._secrets[secret] = kind
            # a password with a quote or a non-ASCII letter appears escaped
            # inside JSON: each of its forms is searched for
            forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
            for form in forms:
                if form not in self._forms:
                    self._forms[form] = secret
                    # a sorted insert, not a regex rebuild: a run meets thousands of
                    # tokens, and recompiling one alternation per new token is quadratic
                    bisect.insort(self._by_length, form, key=lambda f: -len(f))

    def register_header(self, name: str, kind: str) -> None:
        """Redact this header's value in every exchange, however short it is
        (a value shorter than a registered secret's minimum is still hidden
        where it is sent); register the value itself too, for free text."""
        with self._lock:
            self._secret_headers[name.lower()] = kind

    def known(self) -> dict[str, str]:
        with self._lock:
            return dict(self._secrets)

    def text(self, value: str) -> str:
        """Redact every known secret and every secret-shaped string in free text."""
        if not value:
            return value
        with self._lock:
            found = [(form, self._forms[form]) for form in self._by_length if form in value]
        for form, secret in found:
            value = value.replace(form, self.fingerprint(secret, self._secrets[secret]))
        value = _OTPAUTH.sub(lambda m: self.fingerprint(m.group(0), "totp-uri"), value)
        value = _JWT.sub(lambda m: self.fingerprint(m.group(0), "jwt"), value)
        return _API_KEY.sub(lambda m: self.fingerprint(m.group(0), "api-key"), value)

    def json_value(self, value: Any, field_name: str | None = None) -> Any:
        """Replace the values of secret-named fields, learning them as secrets.

        Free text inside the document is left to `text`, run once over the
        whole serialised body: once per body, not once per string."""
        if field_name is not None and field_name.lower() in SECRET_FIELDS and isinstance(value, (str, int)):
            kind = SECRET_FIELDS[field_name.lower()]
            secret = str(value)
            self.register(secret, kind)
            return self.fingerprint(secret, kind)
        if isinstance(value, dict):
            return {k: self.json_value(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json_value(v) for v in value]
        return value

    def body(self, raw: bytes, content_type: str | None = None) -> str:
        """Redact a request or response body, JSON-aware where it parses."""
        if not raw:
            return ""
        text = raw.decode("utf-8", "replace")
        try:
            document = json.loads(text)
        except ValueError:
            return self.text(text)
        return self.text(json.dumps(self.json_value(document), ensure_ascii=False))

    def headers(self, headers: Mapping[str, str] | httpx.Headers) -> dict[str, str]:
        out: dict[str, str] = {}
        items = headers.multi_items() if isinstance(headers, httpx.Headers) else headers.items()
        for name, value in items:
            lower = name.lower()
            if lower in SECRET_HEADERS or lower in self._secret_headers:
                value = self._header_secret(lower, value)
            else:
                value = self.text(value)
            out[lower] = value if lower not in out else f"{out[lower]}, {value}"
        return out

    def url(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.query:
            query = []
            for name, value in parse_qsl(parts.query, keep_blank_values=True):
                if name.lower() in SECRET_QUERY:
                    self.register(value, "token")
                    value = self.fingerprint(value, self._secrets.get(value, "token"))
                query.append((name, value))
            parts = parts._replace(query=urlencode(query, safe="«»:"))
        return self.text(urlunsplit(parts))

    def _header_secret(self, name: str, value: str) -> str:
        if name in ("authorization", "proxy-authorization") and " " in value:
            scheme, _, credential = value.partition(" ")
            credential = credential.strip()
            kind = self._secrets.get(credential, "bearer" if scheme.lower() == "bearer" else "credential")
            self.register(credential, kind)
            return f"{scheme} {self.fingerprint(credential, kind)}" if credential else scheme
        if name in ("cookie", "set-cookie"):
            return re.sub(r"=([^;,\s]+)", lambda m: "=" + self._cookie(m.group(1)), value)
        kind = self._secrets.get(value) or self._secret_headers.get(name, "api-key")
        self.register(value, kind)
        return self.fingerprint(value, kind)

    def _cookie(self, value: str) -> str:
        self.register(value, "cookie")
        return self.fingerprint(value, "cookie")


@dataclass
class Exchange:
    """One recorded request and its response, redacted."""

    method: str
    url: str
    requestHeaders: dict[str, str]
    requestBody: str
    status: int | None
    responseHeaders: dict[str, str]
    responseBody: str
    durationSeconds: float
    startedAt: str
    note: str | None = None
    truncated: bool = False
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        return {k: v for k, v in data.items() if v is not None or k == "status"}


@dataclass
class RawExchange:
    """What observers see before redaction: used only by in-run scanners (e.g.
    "a key shown once never reappears"), never stored."""

    method: str
    url: str
    request_headers: httpx.Headers
    request_body: bytes
    status: int | None
    response_headers: httpx.Headers
    response_body: bytes


@dataclass
class EvidenceLog:
    """Collects the exchanges of the check that is running now.

    The plugin opens a collection per check; exchanges sent from helper
    threads (concurrency checks) land in the same one.
    """

    redactor: Redactor
    _current: list[Exchange] | None = None
    _note: str | None = None
    _observers: list[Callable[[RawExchange], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def collecting(self) -> Iterator[list[Exchange]]:
        bucket: list[Exchange] = []
        with self._lock:
            previous, self._current = self._current, bucket
        try:
            yield bucket
        finally:
            with self._lock:
                self._current = previous

    @contextmanager
    def note(self, text: str) -> Iterator[None]:
        """Attach a note (e.g. "alg:none attack") to exchanges sent inside the block."""
        previous, self._note = self._note, text
        try:
            yield
        finally:
            self._note = previous

    def attach(self, exchanges: list[Exchange]) -> None:
        """Add exchanges recorded (and redacted) earlier to the running check's
        evidence: several checks may judge one shared run (schema fuzzing), and
        sending again would record, and scan, the same traffic twice."""
        with self._lock:
            if self._current is not None:
                self._current.extend(exchanges)

    def observe(self, observer: Callable[[RawExchange], None]) -> None:
        self._observers.append(observer)

    def record_exchange(
        self,
        *,
        method: str,
        url: str,
        request_headers: Mapping[str, str] | httpx.Headers,
        request_body: bytes,
        status: int | None,
        response_headers: Mapping[str, str] | httpx.Headers,
        response_body: bytes,
        started: float,
        duration: float,
        error: str | None = None,
    ) -> Exchange:
        """Redact and keep one exchange. Response fields are redacted after the
        request's, so secrets the request carried are already known."""
        raw = RawExchange(
            method,
            url,
            httpx.Headers(request_headers),
            request_body,
            status,
            httpx.Headers(response_headers),
            response_body,
        )
        for observer in self._observers:
            observer(raw)
        r = self.redactor
        truncated = len(request_body) > BODY_CAP or len(response_body) > BODY_CAP
        # the request first: secrets it carries (a password, a presented token)
        # become known before the response is redacted
        request_headers_kept = r.headers(request_headers)
        request_body_kept = r.body(request_body[:BODY_CAP])
        response_body_kept = r.body(response_body[:BODY_CAP])
        exchange = Exchange(
            method=method,
            url=r.url(url),
            requestHeaders=request_headers_kept,
            requestBody=request_body_kept,
            status=status,
            responseHeaders=r.headers(response_headers),
            responseBody=response_body_kept,
            durationSeconds=round(duration, 6),
            startedAt=datetime.fromtimestamp(started, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            note=self._note,
            truncated=truncated,
            error=r.text(error) if error else None,
        )
        with self._lock:
            if self._current is not None:
                self._current.append(exchange)
        return exchange


class RecordingTransport(httpx.BaseTransport):
    """An httpx transport that records every exchange into the evidence log."""

    def __init__(self, inner: httpx.BaseTransport, log: EvidenceLog) -> None:
        self._inner = inner
        self._log = log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request_body = request.read()
        started, t0 = time.time(), time.perf_counter()
        try:
            response = self._inner.handle_request(request)
            body = response.read()
        except httpx.TransportError as exc:
            self._log.record_exchange(
                method=request.method,
                url=str(request.url),
                request_headers=request.headers,
                request_body=request_body,
                status=None,
                response_headers={},
                response_body=b"",
                started=started,
                duration=time.perf_counter() - t0,
                error=f"{type(exc).__name__}: {exc}",
            )
            raise
        self._log.record_exchange(
            method=request.method,
            url=str(request.url),
            request_headers=request.headers,
            request_body=request_body,
            status=response.status_code,
            response_headers=response.headers,
            response_body=body,
            started=started,
            duration=time.perf_counter() - t0,
        )
        # already read, so the client never closes the stream, which is what
        # would set `.elapsed` (schemathesis and users read it)
        response.elapsed = timedelta(seconds=time.perf_counter() - t0)
        return response

    def close(self) -> None:
        self._inner.close()
