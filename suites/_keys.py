"""API keys as the harness sees them: their documented shape, the pieces of
their secret, and the run-wide scanner for keys shown again after creation.

Contract §4: a key is `bsk_test_` or `bsk_live_`, then at least 32 characters
of `[A-Za-z0-9]`; metadata `prefix` is the environment prefix plus at most the
first 8 secret characters. So a response may show at most 8 characters of a
secret (inside a `prefix`); any run of 9 or more consecutive secret characters
is more of the secret than the contract lets anything but the creation answer
show.

Key metadata is also judged by value (§3: "metadata never holds key nor
anything of the secret beyond prefix"): a string value in it, other than
`prefix`, that holds a piece of the key's own secret is a leak however short,
down to a "last four" hint (`metadata_pieces`, `confirmed_pieces`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import string
import threading
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from urllib.parse import urlsplit

from bsk_conformance.harness.api import DISPLAYED_SECRET_CHARS, KEY_PREFIXES, Profile, RawExchange, Redactor

KEY_SHAPE = re.compile(r"^bsk_(test|live)_[A-Za-z0-9]{32,}$")
LEAK_WINDOW = DISPLAYED_SECRET_CHARS + 1  # any 9 consecutive secret characters are a leak
ALPHANUMERIC = string.ascii_letters + string.digits
_ALNUM_RUN = re.compile(rf"[A-Za-z0-9]{{{LEAK_WINDOW},}}")

# -- pieces of a secret in key metadata, judged by value ----------------------
#
# A piece is a maximal run of [A-Za-z0-9] in a metadata string value (masks such
# as "…", "*" or "_" end a run) that occurs in the key's secret. The shortest
# judged is SHORTEST_PIECE = 4 characters, a "last four" hint.
#
# False positives. The secret is L characters from a CSPRNG over 62 symbols
# (§4), independent of every value the target did not derive from it, so a
# fixed run of k characters occurs in it with probability at most
# (L - k + 1) / 62**k. For k = 4: 62**4 = 14 776 336, so 1.96e-6 at L = 32,
# 2.5e-6 at L = 40 (the reference server) and 4.1e-6 at L = 64; for k = 5
# it is already below 6.6e-8. Ordinary metadata has a few such short runs
# ("2026" in createdAt, "acme" in an organizationId "org_acme"), so one key
# judged alone is wrongly flagged with a chance near 5e-6, and a run that
# judges ~100 keys near 5e-4: too much for a MUST. So a field counts as a
# leak only when it shows a piece of its own key's secret for TWO different
# keys: a hint shows one for every key, a coincidence for each key
# independently (independent secrets). Among n keys the chance that some
# field coincides twice is at most C(n, 2) * sum over fields of p_f**2: with
# two fields at 2.5e-6 and n = 100, 4950 * 2 * 6.3e-12 = 6e-8; for the two
# keys of one check, 1.3e-11.
#
# Excluded, because showing them cannot reveal anything of the secret beyond
# what the contract allows: `prefix` itself, and any run that the prefix's own
# secret characters (at most the first 8) contain; runs that the client sent
# when it created the key (its name, its scopes): echoing the client's data
# back is not showing the key. Not seen below 9 characters: a piece glued to
# other letters or digits ("last4wxyz"); from 9 on, the window rule above sees
# it anywhere.
SHORTEST_PIECE = 4
_ANY_ALNUM_RUN = re.compile(r"[A-Za-z0-9]+")


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
    for prefix in KEY_PREFIXES.values():
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


def alnum_runs(text: str) -> set[str]:
    return set(_ANY_ALNUM_RUN.findall(text))


def _strings(value: object, path: str = "") -> list[tuple[str, str]]:
    """Every string inside a JSON value, with its field path ("meta.hint", "tags[]")."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [pair for name, inner in value.items() for pair in _strings(inner, f"{path}.{name}" if path else name)]
    if isinstance(value, list):
        return [pair for inner in value for pair in _strings(inner, f"{path}[]")]
    return []


def metadata_pieces(item: dict, key: str, profile: Profile, sent: AbstractSet[str] = frozenset()) -> dict[str, int]:
    """The fields of one key's metadata (any depth, `prefix` aside) whose
    string value holds a piece of that key's secret: {field path: the
    longest piece's length}. `sent`: the runs the client sent at creation."""
    env_prefix, secret = split_key(key, profile)
    prefix = item.get("prefix")
    # the secret characters the item's own prefix shows, which the contract lets it show
    shown = prefix[len(env_prefix):] if isinstance(prefix, str) and key.startswith(prefix) else ""
    found: dict[str, int] = {}
    for path, value in _strings(item):
        if path == "prefix":
            continue
        for run in _ANY_ALNUM_RUN.findall(value):
            if len(run) >= SHORTEST_PIECE and run in secret and run not in shown and run not in sent:
                found[path] = max(found.get(path, 0), len(run))
    return found


def confirmed_pieces(observed: dict[str, dict[str, int]]) -> dict[str, list[int]]:
    """From {key: metadata_pieces of its metadata}, the fields that show a piece
    of their own key's secret for two keys or more: {field: piece lengths}."""
    by_field: dict[str, list[int]] = {}
    for pieces in observed.values():
        for path, length in pieces.items():
            by_field.setdefault(path, []).append(length)
    return {path: lengths for path, lengths in by_field.items() if len(lengths) >= 2}


def describe_pieces(confirmed: dict[str, list[int]]) -> str:
    """Which fields, and how many characters, never the characters themselves."""
    return "; ".join(f'field "{path}" holds {min(lengths)}+ characters of the secret of each of {len(lengths)} keys'
                     for path, lengths in sorted(confirmed.items()))


def _common_run(text: str, secret: str) -> int:
    """The longest prefix of `text` that occurs in `secret`."""
    length = LEAK_WINDOW
    while length < len(text) and text[:length + 1] in secret:
        length += 1
    return length


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
    or headers hold the full key or 9+ consecutive characters of its secret,
    and every key metadata answer (`GET /api-keys`, `GET /api-keys/{id}`) with
    a field that holds a piece of its own key's secret, however short, once
    that field has done so for two keys (see SHORTEST_PIECE for why two).

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
        self._by_id: dict[str, tuple[str, set[str]]] = {}  # key id -> (key, runs the client sent)
        # metadata field -> key -> where it showed a piece of that key's secret (a Leak), until two keys agree
        self._pieces: dict[str, dict[str, Leak]] = {}
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
        self._judge_metadata(raw, body)
        issued = self._issued_key(raw, body)
        if issued is not None:
            self._learn(*issued, sent=alnum_runs(raw.request_body.decode("utf-8", "replace")))

    @staticmethod
    def _issued_key(raw: RawExchange, body: str) -> tuple[str, str | None] | None:
        """(key, its id) from the 201 answer of POST /api-keys."""
        if raw.method.upper() != "POST" or raw.status != 201:
            return None
        if not urlsplit(raw.url).path.rstrip("/").endswith("/api-keys"):
            return None
        try:
            document = json.loads(body)
        except ValueError:
            return None
        if not isinstance(document, dict):
            return None
        key, key_id = document.get("key"), document.get("id")
        if not isinstance(key, str) or not key:
            return None
        return key, key_id if isinstance(key_id, str) else None

    def _learn(self, key: str, key_id: str | None, sent: set[str]) -> None:
        self._redactor.register(key, "api-key")
        _, secret = split_key(key, self._profile)
        with self._lock:
            self.issued += 1
            if key_id is not None:
                self._by_id[key_id] = (key, sent)
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

    def _judge_metadata(self, raw: RawExchange, body: str) -> None:
        """Key metadata judged by value: a field with a piece of its own key's
        secret is held back until the same field has shown one for a second key."""
        if raw.method.upper() != "GET" or raw.status != 200:
            return
        path = urlsplit(raw.url).path.rstrip("/")
        if not (path.endswith("/api-keys") or path.rpartition("/")[0].endswith("/api-keys")):
            return
        try:
            document = json.loads(body)
        except ValueError:
            return
        items = document.get("data") if isinstance(document, dict) and "data" in document else [document]
        for item in items if isinstance(items, list) else []:
            item_id = item.get("id") if isinstance(item, dict) else None
            known = self._by_id.get(item_id) if isinstance(item_id, str) else None
            if known is None:
                continue
            key, sent = known
            for field, length in metadata_pieces(item, key, self._profile, sent).items():
                leak = self._leak(raw, f'metadata field "{field}"',
                                  f"{length} characters of its secret (the field holds a piece of each key's secret)",
                                  key)
                with self._lock:
                    seen = self._pieces.setdefault(field, {})
                    seen.setdefault(key, leak)
                    confirmed = list(seen.values()) if len(seen) >= 2 else []
                for each in confirmed:
                    self._keep(each)

    def _leak(self, raw: RawExchange, where: str, what: str, key: str) -> Leak:
        current = os.environ.get("PYTEST_CURRENT_TEST")  # "path::name (call)"
        check = current.rsplit(" ", 1)[0] if current else "outside any check"
        return Leak(check, f"{raw.method} {urlsplit(raw.url).path}", raw.status or 0, where, what,
                    self._redactor.fingerprint(key, "api-key"))

    def _record(self, raw: RawExchange, where: str, what: str, key: str) -> None:
        self._keep(self._leak(raw, where, what, key))

    def _keep(self, leak: Leak) -> None:
        with self._lock:
            if len(self.leaks) < self.MAX_LEAKS and leak not in self.leaks:
                self.leaks.append(leak)

    def export(self) -> dict:
        """What this process found, as plain data for the run's other
        processes: counts and leaks (fingerprints, never keys)."""
        with self._lock:
            return {"issued": self.issued, "responses": self.responses_scanned,
                    "leaks": [dataclasses.asdict(leak) for leak in self.leaks], "problems": list(self.problems)}

    def absorb(self, exported: dict) -> None:
        """Add another xdist worker's findings (its `export`)."""
        leaks = [Leak(**leak) for leak in exported.get("leaks", [])]
        with self._lock:
            self.issued += int(exported.get("issued", 0))
            self.responses_scanned += int(exported.get("responses", 0))
            self.problems.extend(exported.get("problems", []))
        for leak in leaks:
            self._keep(leak)

    def describe(self, limit: int = 5) -> str:
        shown = [f"{leak.check}: {leak.request} -> HTTP {leak.status}, {leak.where} shows {leak.what} "
                 f"(key {leak.key})" for leak in self.leaks[:limit]]
        more = len(self.leaks) - limit
        return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
