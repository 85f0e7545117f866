"""Who is calling: reading credentials from a request and resolving them.

Credentials come from headers only: ``Authorization: Bearer <token>`` and
``X-API-Key: <key>``. ``?access_token=`` and ``?api_key=`` are never read
(contract §4; RFC 6750 §2.3 discourages them because URLs end up in logs).

A request carrying both a bearer token and a key is refused with 400
``invalid_request`` before either is checked: RFC 6750 §3.1 names "more than
one method" of sending credentials as ``invalid_request``, and refusing is
safer than guessing which identity the client meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request

from . import errors
from .accounts import User
from .keys import ApiKeyRecord
from .ratelimit import RateDecision

if TYPE_CHECKING:
    from .parts import Parts

#: Where the rate-limit decision of a key-authenticated request is left for
#: the middleware that writes the ``X-RateLimit-*`` headers.
RATE_LIMIT_SCOPE_KEY = "bsk.rate_limit"


@dataclass(frozen=True)
class Credentials:
    bearer: str | None = None
    api_key: str | None = None


@dataclass(frozen=True)
class UserPrincipal:
    """A user, by a valid access token: every scope of their organization."""

    user: User

    @property
    def organization_id(self) -> str:
        return self.user.organization_id


@dataclass(frozen=True)
class KeyPrincipal:
    """An API key: its organization, restricted to its scopes."""

    key: ApiKeyRecord

    @property
    def organization_id(self) -> str:
        return self.key.organization_id


Principal = UserPrincipal | KeyPrincipal


class CredentialReader:
    """Extracts the credentials a request presents."""

    def read(self, request: Request) -> Credentials:
        bearer = None
        authorization = request.headers.get("authorization")
        if authorization is not None:
            scheme, _, token = authorization.strip().partition(" ")
            # The scheme is case-insensitive (RFC 9110 §11.1); other schemes
            # (Basic, ...) are not ours and leave the request unauthenticated.
            if scheme.lower() == "bearer":
                bearer = token.strip()
        return Credentials(bearer=bearer, api_key=request.headers.get("x-api-key"))


def identify(parts: Parts, request: Request) -> Principal:
    """Authenticate the request, or raise 401 (or 400/429, see module docstring).

    Key-authenticated requests are counted against the key's rate limit here,
    before any authorization decision: a key's 403 costs budget like a 200.
    """
    credentials = parts.credentials.read(request)
    if credentials.bearer is not None and credentials.api_key is not None:
        raise errors.invalid_request("Send either a bearer token or an API key, not both.")
    if credentials.bearer is not None:
        claims = parts.tokens.verify_access(credentials.bearer)
        user = parts.accounts.get(claims.user_id)
        if user is None or user.organization_id != claims.organization_id:
            raise errors.invalid_token("The access token's user no longer exists.")
        return UserPrincipal(user)
    if credentials.api_key is not None:
        key = parts.keys.authenticate(credentials.api_key)
        decision: RateDecision = parts.rate_limiter.admit(key.id, key.rate_limit)
        request.scope[RATE_LIMIT_SCOPE_KEY] = decision
        if not decision.allowed:
            raise errors.rate_limited(decision.reset)
        return KeyPrincipal(key)
    raise errors.authentication_required()
