"""Reading the wire details of contract §2 the way the RFCs define them.

- `challenges`: `WWW-Authenticate` parsed per RFC 9110 §11.6.1 (RFC 7235 §4.1):
  a comma-separated list of challenges, each an auth-scheme followed by a
  token68 or by auth-params; scheme and parameter names are
  case-insensitive, values are tokens or quoted-strings.
- `cache_directives`: `Cache-Control` directive names (RFC 9111 §5.2).
- `tampered`: a JWT whose signature bytes differ from the genuine ones.
- `echoes`: whether a response shows a secret the request carried.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

import httpx

# an RFC 3339 date-time's shape and value live in the API; named here as
# suites/test_wire_format.py still imports them, until it imports the API itself
from bsk_conformance.harness.api import is_rfc3339_utc as is_rfc3339_utc  # noqa: F401
from bsk_conformance.harness.api import parse_rfc3339 as timestamp  # noqa: F401

JSON = {"content-type": "application/json"}

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_WHITESPACE = " \t"


class ChallengeSyntaxError(ValueError):
    """A `WWW-Authenticate` value that is not a list of RFC 9110 challenges."""


@dataclass
class Challenge:
    scheme: str  # lower-cased
    params: dict[str, str] = field(default_factory=dict)  # names lower-cased, values unquoted
    token68: str | None = None


def challenges(response: httpx.Response) -> list[Challenge]:
    """Every challenge of every `WWW-Authenticate` field of the response."""
    found: list[Challenge] = []
    for value in response.headers.get_list("www-authenticate"):
        found += parse_challenges(value)
    return found


def bearer_challenge(response: httpx.Response) -> Challenge | None:
    """The response's first Bearer challenge (RFC 6750 §3), or None; raises
    ChallengeSyntaxError when a `WWW-Authenticate` field does not parse."""
    bearers = [c for c in challenges(response) if c.scheme == "bearer"]
    return bearers[0] if bearers else None


def parse_challenges(value: str) -> list[Challenge]:
    """`Bearer realm="bsk", error="invalid_token", Basic realm=x` -> two challenges."""
    out: list[Challenge] = []
    i, n = 0, len(value)
    current: Challenge | None = None
    while True:
        i = _skip(value, i, _WHITESPACE + ",")
        if i >= n:
            return out
        name = _TOKEN.match(value, i)
        if name is None:
            raise ChallengeSyntaxError(f"expected a token at character {i}")
        after = _skip(value, name.end(), _WHITESPACE)
        if current is not None and after < n and value[after] == "=":
            i = _param(value, name.group(0), after + 1, current)
            continue
        # a new challenge: its scheme, then a token68 or parameters
        current = Challenge(name.group(0).lower())
        out.append(current)
        i = name.end()
        if i < n and value[i] not in _WHITESPACE + ",":
            raise ChallengeSyntaxError(f"unexpected {value[i]!r} after the scheme {name.group(0)!r}")
        start = _skip(value, i, _WHITESPACE)
        token68 = _TOKEN68.match(value, start)
        if token68 is not None:
            end = _skip(value, token68.end(), _WHITESPACE)
            if end >= n or value[end] == ",":
                current.token68 = token68.group(0)
                i = end
                continue
        i = start


def _param(value: str, name: str, i: int, challenge: Challenge) -> int:
    i = _skip(value, i, _WHITESPACE)
    if i < len(value) and value[i] == '"':
        text, i = _quoted(value, i)
    else:
        token = _TOKEN.match(value, i)
        if token is None:
            raise ChallengeSyntaxError(f"parameter {name!r} has no value")
        text, i = token.group(0), token.end()
    challenge.params.setdefault(name.lower(), text)
    i = _skip(value, i, _WHITESPACE)
    if i < len(value) and value[i] != ",":
        raise ChallengeSyntaxError(f"unexpected {value[i]!r} after parameter {name!r}")
    return i


def _quoted(value: str, i: int) -> tuple[str, int]:
    out, i = [], i + 1
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 1 < len(value):
            out.append(value[i + 1])
            i += 2
        elif char == '"':
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    raise ChallengeSyntaxError("unterminated quoted-string")


def _skip(value: str, i: int, chars: str) -> int:
    while i < len(value) and value[i] in chars:
        i += 1
    return i


def cache_directives(response: httpx.Response) -> set[str]:
    """The directive names of every `Cache-Control` field, lower-cased."""
    names: set[str] = set()
    for value in response.headers.get_list("cache-control"):
        for part in re.split(r',(?=(?:[^"]*"[^"]*")*[^"]*$)', value):
            name = part.split("=", 1)[0].strip().lower()
            if name:
                names.add(name)
    return names


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def tampered(token: str) -> str:
    """The JWT with one byte in the middle of its signature flipped (contract
    §8: an altered signature is one whose decoded bytes differ)."""
    signing_input, _, signature = token.rpartition(".")
    raw = bytearray(_b64url_decode(signature) or b"\0")
    raw[len(raw) // 2] ^= 0x01
    return f"{signing_input}.{_b64url(bytes(raw))}"


def echoes(response: httpx.Response, secrets: Iterable[str]) -> list[str]:
    """Which of `secrets` (as sent, or URL-encoded) the response shows, in its
    body or any header. Returns descriptions, never the secrets themselves."""
    body = response.content.decode("utf-8", "replace")
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.multi_items())
    found = []
    for index, secret in enumerate(secrets):
        forms = {secret, quote(secret, safe=""), quote_plus(secret)}
        where = [place for place, text in (("body", body), ("headers", headers)) if any(f in text for f in forms)]
        if where:
            found.append(f"secret #{index + 1} in the response {' and '.join(where)}")
    return found


class SignedIn:
    """One logged-in session shared by the checks of a module that only read
    with it: fewer logins, fewer new secrets for the run's redactor. A session
    whose access token is within two minutes of its `exp` (the clock may have
    moved) is replaced by a fresh login."""

    MARGIN = 120

    def __init__(self, registry, account, clock) -> None:
        self._registry = registry
        self._account = account
        self._clock = clock
        self._session = None

    @property
    def session(self):
        if self._session is None or self._expiring(self._session.access_token):
            self.close()
            self._session = self._registry.login(self._account)
        return self._session

    def _expiring(self, token: str) -> bool:
        try:
            payload = json.loads(_b64url_decode(token.split(".")[1]))
            return float(payload["exp"]) - self._clock.now() < self.MARGIN
        except (ValueError, KeyError, IndexError, TypeError):
            return False

    def close(self) -> None:
        if self._session is not None:
            try:
                self._session.logout()
            except Exception:
                pass  # best effort, like the `user` fixture
            self._session = None
