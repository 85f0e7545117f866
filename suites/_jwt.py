"""Reading JWTs the target issued, without trusting them."""

from __future__ import annotations

import jwt

from bsk_conformance.harness.api import fail


def claims(token: str, context: str = "access token") -> dict:
    """The payload of a JWT, unverified: the harness inspects, the target verifies."""
    try:
        payload = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        fail(
            "a JWT (header.payload.signature, base64url JSON)",
            f"a token that does not decode ({type(exc).__name__})",
            context,
        )
    if not isinstance(payload, dict):
        fail("a JSON object payload", type(payload).__name__, context)
    return payload


def header(token: str, context: str = "access token") -> dict:
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        fail("a JWT header", f"a header that does not decode ({type(exc).__name__})", context)


def numeric_claim(payload: dict, name: str, context: str = "access token") -> int:
    value = payload.get(name)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        fail(f'a numeric "{name}" claim (NumericDate)', repr(value), context)
    return int(value)
