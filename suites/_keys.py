"""API keys as the harness sees them: their documented shape, the pieces of
their secret, and the run-wide scanner for keys shown again after creation.

Contract §4: a key is `bsk_test_` or `bsk_live_`, then at least 32 characters
of `[A-Za-z0-9]`; metadata `prefix` is the environment prefix plus at most the
first 8 secret characters. So a response may show at most 8 characters of a
secret (inside a `prefix`); any run of 9 or more consecutive secret characters
is more of the secret than the contract lets anything but the creation answer
show.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import string
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bsk_conformance.harness.evidence import RawExchange, Redactor
from bsk_conformance.harness.profile import Profile

DOCUMENTED_PREFIXES = ("bsk_test_", "bsk_live_")
KEY_SHAPE = re.compile(r"^bsk_(test|live)_[A-Za-z0-9]{32,}$")
DISPLAYED_SECRET_CHARS = 8  # the most of a secret that metadata `prefix` may show
LEAK_WINDOW = DISPLAYED_SECRET_CHARS + 1  # any 9 consecutive secret characters are a leak
SCOPES = ("organization:read", "projects:read", "projects:write")
ALPHANUMERIC = string.ascii_letters + string.digits
_ALNUM_RUN = re.compile(rf"[A-Za-z0-9]{{{LEAK_WINDOW},}}")


def split_key(key: str, profile: Profile) -> tuple[str, str]:
    """(environment prefix, secret). A key that starts with neither documented
    prefix (a broken target) is split after `bsk_`, or not at all."""
    for prefix in (profile.key_prefix, profile.other_key_prefix, "bsk_"):
        if key.startswith(prefix):
            return prefix, key[len(prefix):]
    return "", key


def documented_prefix(key: str, profile: Profile) -> str:
    """The environment prefix a key carries: `bsk_test_` or `bsk_live_` as it
    starts, else the profile's (which it then visibly lacks)."""
    for prefix in DOCUMENTED_PREFIXES:
        if key.startswith(prefix):
            return prefix
    return profile.key_prefix


def random_secret(length: int = 40) -> str:
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(length))


def secret_windows(secret: str) -> set[str]:
    """Every run of LEAK_WINDOW consecutive characters of a secret."""
    return {secret[i:i + LEAK_WINDOW] for i in range(len(secret) - LEAK_WINDOW + 1)}


def shows_secret(text: str, key: str, profile: Profile) -> str | None:
    """What `text` shows of `key` beyond a documented prefix: "the full key",
    "N characters of its secret", or None."""
    if key in text:
        return "the full key"
    _, secret = split_key(key, profile)
    windows = secret_windows(secret)
    longest = 0
    for run in _ALNUM_RUN.findall(text):
        for start in range(len(run) - LEAK_WINDOW + 1):
            if run[start:start + LEAK_WINDOW] in windows:
                longest = max(longest, _common_run(run[start:], secret))
    return f"{longest} consecutive characters of its secret" if longest else None


def _common_run(text: str, secret: str) -> int:
    """The longest prefix of `text` that occurs in `secret`."""
    length = LEAK_WINDOW
    while length < len(text) and text[:length + 1] in secret:
        length += 1
    return length


def rfc3339(moment: float) -> str:
    """Epoch seconds as an RFC 3339 UTC date-time, whole seconds."""
    return datetime.fromtimestamp(int(moment), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def lookalike_id(real: str) -> str:
    """An ID of the same shape as `real` (same length, same character classes,
    same separators, same leading word such as `prj_`) that differs from it: a
    missing object's ID that a target cannot tell from a real one by its form."""
    head = re.match(r"^[A-Za-z]+[_-]", real)
    keep = len(head.group(0)) if head else 0
    for _ in range(100):
        candidate = real[:keep] + "".join(_like(char) for char in real[keep:])
        if candidate != real:
            return candidate
    return real + "0"


def _like(char: str) -> str:
    for alphabet in (string.digits, "abcdef", string.ascii_lowercase, "ABCDEF", string.ascii_uppercase):
        if char in alphabet:
            return secrets.choice(alphabet)
    return char


# -- the whole-run scanner -----------------------------------------------


@dataclass(frozen=True)
class Leak:
    check: str
    request: str
    status: int
    where: str
    what: str
    key: str  # the key's fingerprint, never the key


class KeyLeakScanner:
    """Remembers every key the target issues (the 201 answers of
    `POST /api-keys`) and flags every later response, in any check, whose body
    or headers hold the full key or 9+ consecutive characters of its secret.

    It sees raw exchanges (`EvidenceLog.observe`), before redaction. Windows
    that the request body itself carried are not counted: echoing data the
    client sent as content (a project named after a key) is not showing the key.
    """

    MAX_LEAKS = 200

    def __init__(self, profile: Profile, redactor: Redactor) -> None:
        self._profile = profile
        self._redactor = redactor
        self._lock = threading.Lock()
        self._windows: dict[str, str] = {}  # secret window -> key
        self._short: list[str] = []  # keys whose secret is shorter than a window
        self.issued = 0
        self.responses_scanned = 0
        self.leaks: list[Leak] = []
        self.problems: list[str] = []

    def observe(self, raw: RawExchange) -> None:
        try:
            self._observe(raw)
        except Exception as exc:  # an observer must never break the request it watches
            with self._lock:
                self.problems.append(f"{type(exc).__name__}: {exc}")

    def _observe(self, raw: RawExchange) -> None:
        if raw.status is None:
            return
        body = raw.response_body.decode("utf-8", "replace")
        self._scan(raw, body)
        issued = self._issued_key(raw, body)
        if issued is not None:
            self._learn(issued)

    @staticmethod
    def _issued_key(raw: RawExchange, body: str) -> str | None:
        if raw.method.upper() != "POST" or raw.status != 201:
            return None
        if not urlsplit(raw.url).path.rstrip("/").endswith("/api-keys"):
            return None
        try:
            document = json.loads(body)
        except ValueError:
            return None
        key = document.get("key") if isinstance(document, dict) else None
        return key if isinstance(key, str) and key else None

    def _learn(self, key: str) -> None:
        self._redactor.register(key, "api-key")
        _, secret = split_key(key, self._profile)
        with self._lock:
            self.issued += 1
            if len(secret) < LEAK_WINDOW:
                self._short.append(key)
            for window in secret_windows(secret):
                self._windows[window] = key

    def _scan(self, raw: RawExchange, body: str) -> None:
        with self._lock:
            self.responses_scanned += 1
            if not self._windows and not self._short:
                return
            windows, short = self._windows, list(self._short)  # lookups need no copy
        sent = raw.request_body.decode("utf-8", "replace")
        headers = raw.response_headers.multi_items()
        places = [("the body", body)] + [(f"header {name}", value) for name, value in headers]
        for where, text in places:
            found: dict[str, str] = {}
            for key in short:
                if key in text and key not in sent:
                    found[key] = "the full key"
            for run in _ALNUM_RUN.findall(text):
                for start in range(len(run) - LEAK_WINDOW + 1):
                    window = run[start:start + LEAK_WINDOW]
                    key = windows.get(window)
                    if key is None or key in found or window in sent:
                        continue
                    found[key] = shows_secret(text, key, self._profile) or "a piece of its secret"
            for key, what in found.items():
                self._record(raw, where, what, key)

    def _record(self, raw: RawExchange, where: str, what: str, key: str) -> None:
        current = os.environ.get("PYTEST_CURRENT_TEST")  # "path::name (call)"
        check = current.rsplit(" ", 1)[0] if current else "outside any check"
        leak = Leak(check, f"{raw.method} {urlsplit(raw.url).path}", raw.status or 0, where, what,
                    self._redactor.fingerprint(key, "api-key"))
        with self._lock:
            if len(self.leaks) < self.MAX_LEAKS and leak not in self.leaks:
                self.leaks.append(leak)

    def describe(self, limit: int = 5) -> str:
        shown = [f"{leak.check}: {leak.request} -> HTTP {leak.status}, {leak.where} shows {leak.what} "
                 f"(key {leak.key})" for leak in self.leaks[:limit]]
        more = len(self.leaks) - limit
        return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
