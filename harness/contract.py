"""The contract's own numbers and names, in one place (contract v1.1).

Checks compare a target's answers with these; the reference server keeps its
own copies (`reference_server/keys.py`, `tokens.py`, `settings.py`), since the
server under test must never import the harness that judges it.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["ACCESS_TOKEN_TTL", "DISPLAYED_SECRET_CHARS", "KEY_PREFIXES", "REFRESH_TOKEN_TTL", "SCOPES", "TOTP_STEP"]

# §1: every scope there is, in the contract's order
SCOPES: tuple[str, ...] = ("organization:read", "projects:read", "projects:write")

# §1, §3: seconds an access token (a JWT) and a refresh token live
ACCESS_TOKEN_TTL = 900
REFRESH_TOKEN_TTL = 604_800

# §4: a key starts with its deployment's prefix: environment -> prefix
KEY_PREFIXES: MappingProxyType[str, str] = MappingProxyType({"test": "bsk_test_", "live": "bsk_live_"})

# §4: the most characters of a key's secret that its metadata `prefix` may show
DISPLAYED_SECRET_CHARS = 8

# §3, RFC 6238: seconds in one TOTP step
TOTP_STEP = 30
