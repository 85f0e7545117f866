"""A bounded memory of access tokens whose signature has been verified (issue 13).

Checking an ES256 signature, and PyJWT's strict parse of the token around
it, is most of what a bearer request costs. Both are pure functions of the
token's exact string and the public key, so their outcome can be
remembered. Only that is remembered: everything that depends on the time
or on the store (``exp``, ``nbf``, the claim types and ``typ``, the signing
key still being ours, the user still existing) is checked again on every
request by :class:`~reference_server.tokens.TokenService`.

An entry is made only after a signature verified, so a flood of forged
tokens cannot fill the memory; it holds the decoded header and payload as
bytes, so every hit hands out fresh dicts that a caller may change freely.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

#: Entries kept; the least recently used goes first. A token is a few
#: hundred bytes, so this is well under a megabyte.
DEFAULT_SIZE = 1024


@dataclass(frozen=True)
class VerifiedToken:
    """What a successful signature check of one exact token string found."""

    #: The public key the signature verified under: a hit counts only if
    #: the key the token names now is this one.
    key: Any
    #: The decoded JOSE header and payload, JSON bytes as they were signed.
    header_json: bytes
    payload_json: bytes


class VerifiedTokens:
    """A thread-safe LRU of :class:`VerifiedToken`, keyed by the exact token string."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ValueError("the verified-token memory needs room for at least one token")
        self.size = size
        self._entries: OrderedDict[str, VerifiedToken] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str) -> VerifiedToken | None:
        with self._lock:
            entry = self._entries.get(token)
            if entry is not None:
                self._entries.move_to_end(token)
            return entry

    def put(self, token: str, entry: VerifiedToken) -> None:
        with self._lock:
            self._entries[token] = entry
            self._entries.move_to_end(token)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
