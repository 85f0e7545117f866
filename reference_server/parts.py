"""The swappable parts the server is assembled from.

``Parts.build(settings, clock)`` builds the honest server. A test that needs
a server breaking exactly one rule subclasses one part, overrides one
method, and swaps it in::

    class LongLivedTokens(TokenService):
        def access_lifetime(self) -> int:
            return 3600

    parts = Parts.build(settings, clock)
    parts = dataclasses.replace(parts, tokens=LongLivedTokens(parts.store, parts.clock))
    app = create_app(parts=parts)

Parts share the store and the clock, so a replacement part is built from
``parts.store`` and ``parts.clock``. To change the clock itself, build anew:
``Parts.build(settings, other_clock)``. docs/reference-server.md lists which
method each rule lives in.
"""

from __future__ import annotations

from dataclasses import dataclass

from .accounts import Accounts, load_accounts_file
from .bodies import BodyParser
from .clock import Clock
from .errors import ErrorResponder
from .keys import ApiKeys
from .passwords import Passwords, hasher_for
from .policy import Policy
from .principals import CredentialReader
from .projects import Projects
from .ratelimit import RateLimiter
from .settings import Settings
from .store import Store
from .throttle import LoginThrottle
from .tokens import TokenService
from .two_factor import TwoFactor


@dataclass(frozen=True)
class Parts:
    settings: Settings
    clock: Clock
    store: Store
    #: Users, organizations, and the password check of login.
    accounts: Accounts
    #: Access tokens (JWT) and refresh tokens (rotation, families, logout).
    tokens: TokenService
    #: API keys: issue, hash, look up, expire, revoke, describe.
    keys: ApiKeys
    projects: Projects
    #: Per-key sliding-window rate limit.
    rate_limiter: RateLimiter
    #: Per-account login throttle.
    throttle: LoginThrottle
    #: TOTP setup, enable, disable and login verification.
    two_factor: TwoFactor
    #: Scopes, user-only endpoints, organization isolation.
    policy: Policy
    #: JSON error bodies, ``WWW-Authenticate``, ``Retry-After``.
    errors: ErrorResponder
    #: Request bodies: size limit, JSON decoding, validation.
    bodies: BodyParser
    #: Which headers carry credentials.
    credentials: CredentialReader

    @classmethod
    def build(cls, settings: Settings, clock: Clock) -> Parts:
        """The honest server: every part as the contract says."""
        store = Store(settings.database)
        accounts = Accounts(store, Passwords(hasher_for(settings.environment)))
        accounts.seed(load_accounts_file(settings.accounts_file))
        return cls(
            settings=settings,
            clock=clock,
            store=store,
            accounts=accounts,
            tokens=TokenService(store, clock),
            keys=ApiKeys(store, clock, settings.environment),
            projects=Projects(store, clock),
            rate_limiter=RateLimiter(clock),
            throttle=LoginThrottle(
                clock, threshold=settings.login_throttle_threshold, window=settings.login_throttle_window
            ),
            two_factor=TwoFactor(store, clock),
            policy=Policy(),
            errors=ErrorResponder(),
            bodies=BodyParser(settings.max_body_bytes),
            credentials=CredentialReader(),
        )
