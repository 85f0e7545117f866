"""Who is calling: the credentials a request presents, and the principals they name.

Credentials come from headers only: ``Authorization: Bearer <token>`` and
``X-API-Key: <key>``. ``?access_token=`` and ``?api_key=`` are never read
(contract §4; RFC 6750 §2.3 discourages them because URLs end up in logs).
Resolving them into a principal is :func:`reference_server.authentication.identify`.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from .accounts import User
from .keys import ApiKeyRecord

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
