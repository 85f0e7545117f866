"""Authorization: what an authenticated caller may do (contract §3)."""

from __future__ import annotations

from . import errors
from .keys import ApiKeyRecord
from .principals import KeyPrincipal, Principal, UserPrincipal
from .projects import Project


class Policy:
    """Scope checks and organization isolation.

    Another organization's objects answer 404, never 403: a 403 would
    confirm that the id exists (contract §8).
    """

    def require_user(self, principal: Principal) -> UserPrincipal:
        """User-only endpoints (API-key management, 2FA, logout): a key gets 403."""
        if not isinstance(principal, UserPrincipal):
            raise errors.user_token_required()
        return principal

    def require_scope(self, principal: Principal, scope: str) -> None:
        """A key needs ``scope``; a user's token carries every scope of its organization."""
        if isinstance(principal, KeyPrincipal) and scope not in principal.key.scopes:
            raise errors.insufficient_scope(scope)

    def ensure_project_visible(self, principal: Principal, project: Project) -> None:
        if project.organization_id != principal.organization_id:
            raise errors.not_found("project")

    def ensure_key_visible(self, principal: Principal, key: ApiKeyRecord) -> None:
        if key.organization_id != principal.organization_id:
            raise errors.not_found("API key")
