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

from bsk_conformance.harness.disturbances import GUARD, touch
from bsk_conformance.harness.limits import (
    Limits,
    NotJSON,
    ResponseTooLarge,
    run_exchange,
    size,
)
from bsk_conformance.harness.limits import now as real_now
from bsk_conformance.harness.totp_steps import steps_note
from bsk_conformance.reports.shortening import (
    API_KEY,
    EDGE_MIN,
    JWT,
    OTPAUTH,
    cut,
    mend_end,
    mend_windows,
    shorten,
)

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
        # a form's first and last EDGE_MIN characters -> the forms: where a cut
        # secret's leading (or trailing) part is found at a cut edge
        self._by_head: dict[str, list[str]] = {}
        self._by_tail: dict[str, list[str]] = {}
        self._longest = 0
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
                    self._by_head.setdefault(form[:EDGE_MIN], []).append(form)
                    self._by_tail.setdefault(form[-EDGE_MIN:], []).append(form)
                    self._longest = max(self._longest, len(form))

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
        # shapes recognised even when the run never saw them issued (forged or
        # mutated JWTs the attack suites build, API keys of any prefix): the
        # shapes the reports recognise at a cut edge, defined there once
        value = OTPAUTH.sub(lambda m: self.fingerprint(m.group(0), "totp-uri"), value)
        value = JWT.sub(lambda m: self.fingerprint(m.group(0), "jwt"), value)
        return API_KEY.sub(lambda m: self.fingerprint(m.group(0), "api-key"), value)

    def started_secret(self, text: str) -> tuple[int, str] | None:
        """Where a known secret's leading part (EDGE_MIN characters or more)
        runs into the end of `text`, the earliest such start, and its kind."""
        with self._lock:
            first = max(0, len(text) - self._longest)
            for start in range(first, len(text) - EDGE_MIN + 1):
                for form in self._by_head.get(text[start : start + EDGE_MIN], ()):
                    if len(form) >= len(text) - start and form.startswith(text[start:]):
                        return start, self._secrets[self._forms[form]]
        return None

    def ended_secret(self, text: str) -> tuple[int, str] | None:
        """How many characters at the start of `text` (EDGE_MIN or more) are
        a known secret's trailing part, the most such, and its kind."""
        with self._lock:
            for end in range(min(len(text), self._longest), EDGE_MIN - 1, -1):
                for form in self._by_tail.get(text[end - EDGE_MIN : end], ()):
                    if len(form) >= end and form.endswith(text[:end]):
                        return end, self._secrets[self._forms[form]]
        return None

    def shorten(self, text: str, limit: int, *, in_bytes: bool = False) -> tuple[str, bool]:
        """The one rule (reports/shortening.py) with this run's secrets: replace, cut, mend the edge."""
        return shorten(text, limit, self, in_bytes=in_bytes)

    def quote(self, text: str, limit: int) -> str:
        """`text` redacted and shortened to `limit` characters, "…" where it was cut."""
        kept, was_cut = self.shorten(text, limit)
        return kept + "…" if was_cut else kept

    def shown(self, text: str) -> str:
        """Text someone else shortened in the middle (pytest's report of a
        check: saferepr cuts long values to `'eyJhbGci...c2ln'`): redacted,
        and the secret parts on both sides of each cut replaced."""
        return self.text(mend_windows(text, self))  # the gaps first: text() may read "..." as a JWT's dots

    def body_within(self, raw: bytes, limit: int) -> tuple[str, bool]:
        """A body redacted before it is cut to `limit` bytes and mended at the
        cut; and whether it was cut.

        Secret fields are replaced in the whole document (a secret past the
        limit is still learned); free text only in what can be kept, plus the
        longest known secret's length, so a secret running over the limit is
        seen whole, while a 10 MiB answer is not searched for every secret."""
        if not raw:
            return "", False
        whole = self._fields_replaced(raw)
        window = whole[: limit + self._longest + 1]  # characters: at least `limit` bytes
        kept, was_cut = cut(self.text(window), limit, self, in_bytes=True)
        if len(window) < len(whole) and not was_cut:  # the fingerprints made the window shorter
            kept, was_cut = mend_end(kept, self), True
        return kept, was_cut

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
        return self.text(self._fields_replaced(raw))

    def _fields_replaced(self, raw: bytes) -> str:
        """The body as text, its secret fields replaced where it parses as JSON."""
        text = raw.decode("utf-8", "replace")
        try:
            document = json.loads(text)
        except ValueError:
            return text
        return json.dumps(self.json_value(document), ensure_ascii=False)

    def headers(self, headers: Mapping[str, str] | httpx.Headers) -> dict[str, str]:
        out: dict[str, str] = {}
        items = headers.multi_items() if isinstance(headers, httpx.Headers) else headers.items()
        for name, value in items:
            lower = name.lower()
            if lower in SECRET_HEADERS or lower in self._secret_headers:
                value = self._header_secret(lower, value)
            elif lower in ("location", "content-location"):
                value = self.url(value)  # a redirect may carry a token in its query or userinfo
            else:
                value = self.text(value)
            out[lower] = value if lower not in out else f"{out[lower]}, {value}"
        return out

    def url(self, url: str) -> str:
        try:
            parts = urlsplit(url)
            password = parts.password
        except ValueError:  # not a URL a parser accepts (a target's Location may be anything)
            return self.text(url)
        if password:
            userinfo, _, host = parts.netloc.rpartition("@")
            user = userinfo.partition(":")[0]
            parts = parts._replace(netloc=f"{user}:{self.fingerprint(password, 'password')}@{host}")
        if parts.query:
            query = []
            for name, value in parse_qsl(parts.query, keep_blank_values=True):
                if name.lower() in SECRET_QUERY:
                    self.register(value, "token")
                    value = self.fingerprint(value, self._secrets.get(value, "token"))
                query.append((name, value))
            # the fingerprints' «» stay readable, not percent-encoded
            encoded = urlencode(query, safe=":").replace("%C2%AB", "«").replace("%C2%BB", "»")
            parts = parts._replace(query=encoded)
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
    # the size of a body cut to BODY_CAP, as seen (decoded), where it was cut
    requestBytes: int | None = None
    responseBytes: int | None = None

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
    sent: int = 0  # exchanges recorded by this process, for summary.exchanges
    # the target's now, for the TOTP step of each code a request carries
    # (harness/totp_steps.py); None where reading it costs an exchange (/_test/clock)
    totp_now: Callable[[], float] | None = None

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
        request's, so secrets the request carried are already known.

        What is kept of each body is a redacted prefix of BODY_CAP bytes and
        the size seen, made here: the bodies themselves stay with the caller
        (the check's answer), so the evidence of a run stays small however
        large the bodies a target sends."""
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
        _touch_shared_state(method, url, status)
        r = self.redactor
        # the request first: secrets it carries (a password, a presented token)
        # become known before the response is redacted; each body is redacted
        # whole and only then cut, so no cut secret is kept
        request_headers_kept = r.headers(request_headers)
        request_body_kept, request_cut = r.body_within(request_body, BODY_CAP)
        response_body_kept, response_cut = r.body_within(response_body, BODY_CAP)
        # cut, or larger on the wire than what is kept (a padded JSON body re-serialised
        # small): either way the evidence does not hold every byte seen
        truncated = request_cut or response_cut or max(len(request_body), len(response_body)) > BODY_CAP
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
            note=self._noted(request_body),
            truncated=truncated,
            error=r.text(error) if error else None,
            requestBytes=len(request_body) if len(request_body) > BODY_CAP else None,
            responseBytes=len(response_body) if len(response_body) > BODY_CAP else None,
        )
        with self._lock:
            self.sent += 1
            if self._current is not None:
                self._current.append(exchange)
        return exchange


    def _noted(self, request_body: bytes) -> str | None:
        """The exchange's note: the block's (`note`), and the TOTP step of each
        code the request carries, from the secrets the redactor knows."""
        if self.totp_now is None:
            return self._note
        secrets = (secret for secret, kind in self.redactor.known().items() if kind == "totp-secret")
        steps = steps_note(request_body, secrets, self.totp_now())
        return "; ".join(note for note in (self._note, steps) if note) or None


def _touch_shared_state(method: str, url: str, status: int | None) -> None:
    """Shared state a check changes on the wire, whatever helper sent it:
    the clock (`POST /_test/clock`) and an account's 2FA (`enable`/`disable`
    answered 2xx). harness/disturbances.py judges it against the declarations."""
    if method.upper() != "POST":
        return
    path = urlsplit(url).path.rstrip("/")
    if path.endswith("/auth/login"):
        GUARD.logged_in()
    if status is None or not 200 <= status < 300:
        return
    if path.endswith("/_test/clock"):
        touch("clock", "moved the target's clock (POST /_test/clock)")
    elif path.endswith(("/auth/2fa/enable", "/auth/2fa/disable")):
        touch("two-factor", f"turned 2FA {'on' if path.endswith('enable') else 'off'} for an account")


class TargetResponse(httpx.Response):
    """An answer of the target, as the recording layer hands it on: its body
    already read (capped), and `json()` failing the check with a sentence
    when the body is not JSON, instead of a decoder's traceback."""

    shown_location: str | None = None  # the Location header, redacted
    redactor: Redactor | None = None  # the run's, so a quote of the body is redacted before it is cut

    def json(self, **kwargs: Any) -> Any:
        try:
            return super().json(**kwargs)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
            raise NotJSON(
                f"{self.request.method} {self.request.url.path}: expected a JSON body; observed HTTP "
                f"{self.status_code} with {_content_type(self)} that is not JSON ({_first_line(exc)})",
                "",
                0,
            ) from None


def _content_type(response: httpx.Response) -> str:
    value = response.headers.get("content-type")
    return f"Content-Type {value!r}" if value else "no Content-Type"


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


class RecordingTransport(httpx.BaseTransport):
    """An httpx transport that records every exchange into the evidence log,
    within the run's limits (harness/limits.py): a deadline for the whole
    exchange and a cap on the body, whatever the inner transport is."""

    def __init__(self, inner: httpx.BaseTransport, log: EvidenceLog, limits: Limits | None = None) -> None:
        self._inner = inner
        self._log = log
        self.limits = limits or Limits()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request_body = request.read()
        started, t0 = time.time(), real_now()
        cap = self.limits.max_response_bytes
        try:
            response, body, elapsed = run_exchange(self._inner, request, self.limits)
        except httpx.TransportError as exc:
            self._record(request, request_body, None, {}, b"", started, real_now() - t0, exc)
            raise
        self._record(
            request,
            request_body,
            response.status_code,
            response.headers,
            body.content[:cap],
            started,
            elapsed,
            None,
            over_cap=body.over_cap,
            read_bytes=body.decoded_bytes,
        )
        if body.over_cap:
            failure = ResponseTooLarge(
                f"{request.method} {request.url.path}: expected an answer within --max-response-bytes "
                f"({size(cap)}); observed HTTP {response.status_code} with a body past it: read stopped at "
                f"{size(body.decoded_bytes)} decoded from {size(body.wire_bytes)} on the wire"
            )
            # the failure's traceback keeps this frame for as long as the
            # check's report does: not the body past the cap with it
            del body, response
            raise failure
        answer = TargetResponse(
            status_code=response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(b""),
            extensions=response.extensions,
            request=request,
        )
        # the body is already read and decoded: setting it here means httpx
        # neither reads the (closed) stream again nor decodes the body twice
        answer._content = body.content
        answer.redactor = self._log.redactor
        location = response.headers.get("location")
        if location is not None:
            answer.shown_location = self._log.redactor.url(location)
        # already read, so the client never closes the stream, which is what
        # would set `.elapsed` (schemathesis and users read it)
        answer.elapsed = timedelta(seconds=elapsed)
        return answer

    def _record(
        self,
        request: httpx.Request,
        request_body: bytes,
        status: int | None,
        headers: httpx.Headers | Mapping[str, str],
        body: bytes,
        started: float,
        duration: float,
        exc: BaseException | None,
        over_cap: bool = False,
        read_bytes: int | None = None,
    ) -> None:
        exchange = self._log.record_exchange(
            method=request.method,
            url=str(request.url),
            request_headers=request.headers,
            request_body=request_body,
            status=status,
            response_headers=headers,
            response_body=body,
            started=started,
            duration=duration,
            error=f"{type(exc).__name__}: {exc}" if exc is not None else None,
        )
        if over_cap:
            exchange.truncated = True
            exchange.responseBytes = read_bytes  # where the read stopped: the size seen
            exchange.note = (exchange.note + "; " if exchange.note else "") + (
                f"body abandoned past --max-response-bytes ({size(self.limits.max_response_bytes)})"
            )

    def close(self) -> None:
        self._inner.close()
