"""Faults that hand out credentials where the contract puts none (contract §1, §3, §4).

Each is a habit of real servers: a 2FA challenge whose "pending" token is a
full access token; a debugging token left in the wrong-password answer; a 401
for an expired token that renews it in its challenge; a logout that rotates
the session cookie instead of ending it; a project answer that carries a
freshly made key.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bsk_conformance.reference_server import errors
from bsk_conformance.reference_server.accounts import Accounts
from bsk_conformance.reference_server.errors import ApiError, ErrorResponder
from bsk_conformance.reference_server.projects import Project, Projects
from bsk_conformance.reference_server.tokens import TokenService
from bsk_conformance.reference_server.two_factor import TwoFactor
from tests.faulty.variant import Variant, swap
from tests.faulty.variants.properties import SENT, honouring

# -- a refused login --------------------------------------------------------------------


class ChallengeHoldsAccessToken(TwoFactor):
    """The 2FA challenge carries an "mfaToken" for the second step, which is a full access token."""

    def __init__(self, store, clock, tokens: TokenService) -> None:
        super().__init__(store, clock)
        self.tokens = tokens

    def required_for(self, user) -> bool:
        required = super().required_for(user)
        if required and SENT.get().get("twoFactorCode") is None:
            challenge = errors.two_factor_required()
            token = self.tokens.issue_access(user.id, user.organization_id)
            raise ApiError(challenge.status, challenge.code, challenge.message, extra={"mfaToken": token})
        return required


class WrongPasswordHoldsToken(Accounts):
    """A wrong password for a real account answers invalid_credentials with a session token left in."""

    def __init__(self, store, passwords, tokens: TokenService) -> None:
        super().__init__(store, passwords)
        self.tokens = tokens

    def authenticate(self, email: str, password: str):
        try:
            return super().authenticate(email, password)
        except ApiError as refused:
            row = self.store.query_one("SELECT id, organization_id FROM users WHERE email = ?", (email.lower(),))
            if row is None:
                raise
            token = self.tokens.issue_access(row["id"], row["organization_id"])
            raise ApiError(refused.status, refused.code, refused.message, extra={"sessionToken": token}) from None


# -- an error answer --------------------------------------------------------------------


class Renewed(ApiError):
    renewed: str = ""


class RenewsExpiredTokens(TokenService):
    """An expired access token is refused, with a renewed one for the same user."""

    def check_expiry(self, claims: dict[str, Any], now: float) -> None:
        try:
            super().check_expiry(claims, now)
        except ApiError as refused:
            renewed = Renewed(refused.status, refused.code, refused.message, token_rejected=True)
            renewed.renewed = self.issue_access(claims["sub"], claims["org"])
            raise renewed from None


class ChallengeCarriesRenewal(ErrorResponder):
    def www_authenticate(self, error: ApiError) -> str | None:
        challenge = super().www_authenticate(error)
        if challenge is not None and isinstance(error, Renewed):
            return f'{challenge}, access_token="{error.renewed}"'
        return challenge


def renewing_expired_tokens(settings: Any, clock: Any) -> Any:
    from bsk_conformance.reference_server import create_app
    from bsk_conformance.reference_server.parts import Parts

    parts = Parts.build(settings, clock)
    return create_app(parts=dataclasses.replace(parts, tokens=RenewsExpiredTokens(parts.store, parts.clock),
                                                errors=ChallengeCarriesRenewal()))


# -- logout -----------------------------------------------------------------------------


class LogoutRotatesCookie:
    """ASGI wrapper: a 204 to POST /auth/logout sets a new refresh-token cookie
    for the same user (a session framework's rotate-on-logout)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith("/auth/logout"):
            await self.app(scope, receive, send)
            return
        bearer = next((v.decode() for k, v in scope["headers"] if k.lower() == b"authorization"), "")

        async def sending(message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 204:
                parts = self.app.state.parts
                claims = parts.tokens.verify_access(bearer.partition(" ")[2])
                pair = parts.tokens.issue_pair(claims.user_id, claims.organization_id)
                cookie = f"refresh_token={pair.refresh_token}; Path=/; HttpOnly; Secure".encode()
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
            await send(message)

        await self.app(scope, receive, sending)


def logout_rotating_cookie(settings: Any, clock: Any) -> Any:
    from bsk_conformance.reference_server import create_app

    return LogoutRotatesCookie(create_app(settings, clock=clock))


# -- another successful answer -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ProjectWithDeployKey(Project):
    deploy_key: str = ""

    def body(self) -> dict[str, Any]:
        return {**super().body(), "deployKey": self.deploy_key}


class ProjectsWithDeployKeys(Projects):
    """A new project comes with a deploy key of every scope, shown in the creation answer."""

    def __init__(self, store, clock, keys) -> None:
        super().__init__(store, clock)
        self.keys = keys

    def create(self, organization_id: str, name: str) -> Project:
        project = super().create(organization_id, name)
        _, key = self.keys.create(organization_id=organization_id, created_by="deploy", name=f"deploy {name}",
                                  scopes=("organization:read", "projects:read", "projects:write"), rate_limit=60,
                                  expires_at=None)
        return ProjectWithDeployKey(**dataclasses.asdict(project), deploy_key=key)


VARIANTS = [
    Variant(
        name="two_factor_challenge_holds_access_token",
        breaks="with 2FA enabled, login must include twoFactorCode (its 401 challenge holds an access token)",
        trips=("BSK-LEAK-001",),
        factory=honouring("two_factor", lambda p: ChallengeHoldsAccessToken(p.store, p.clock, p.tokens)),
    ),
    Variant(
        name="invalid_credentials_holds_token",
        breaks="POST /auth/login: 401 invalid_credentials (the answer to a wrong password holds an access token)",
        trips=("BSK-LEAK-001",),
        factory=swap("accounts", lambda p: WrongPasswordHoldsToken(p.store, p.accounts.passwords, p.tokens)),
    ),
    Variant(
        name="expired_token_renewed_in_challenge",
        breaks="401 for an expired access token (its WWW-Authenticate carries a renewed access token)",
        trips=("BSK-LEAK-002",),
        factory=renewing_expired_tokens,
    ),
    Variant(
        name="logout_rotates_refresh_cookie",
        breaks="POST /auth/logout: 204, the refresh token is revoked (a Set-Cookie holds a new live refresh token)",
        trips=("BSK-LEAK-003",),
        factory=logout_rotating_cookie,
    ),
    Variant(
        name="project_answer_holds_deploy_key",
        breaks="the only answers with a credential are login, refresh and key creation (a new project shows a key)",
        trips=("BSK-LEAK-004",),
        factory=swap("projects", lambda p: ProjectsWithDeployKeys(p.store, p.clock, p.keys)),
    ),
]
