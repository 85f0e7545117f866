"""Authentication: resolving the credentials of a request into its principal.

A request carrying both a bearer token and a key is refused with 400
``invalid_request`` before either is checked: RFC 6750 §3.1 names "more than
one method" of sending credentials as ``invalid_request``, and refusing is
safer than guessing which identity the client meant.

Its own module, above :mod:`.parts`: it reads every part it needs from
``parts``, while the parts themselves (``policy``, ``credentials``) only need
the principal types of :mod:`.principals`.
"""

from __future__ import annotations

from starlette.requests import Request

from . import errors
from .parts import Parts
from .principals import RATE_LIMIT_SCOPE_KEY, KeyPrincipal, Principal, UserPrincipal
from .ratelimit import RateDecision


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
