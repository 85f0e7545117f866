"""Faults in scopes and organization isolation (contract §1, §3, §8)."""

from __future__ import annotations

from bsk_conformance.reference_server import errors
from bsk_conformance.reference_server.errors import ApiError, ErrorResponder
from bsk_conformance.reference_server.keys import ApiKeys
from bsk_conformance.reference_server.policy import Policy
from bsk_conformance.reference_server.principals import KeyPrincipal, UserPrincipal
from bsk_conformance.reference_server.projects import Projects
from tests.faulty.variant import Variant, swap

# -- scopes ---------------------------------------------------------------------


class ScopesIgnored(Policy):
    def require_scope(self, principal, scope) -> None:
        return None


class MissingScopeIs401(Policy):
    def require_scope(self, principal, scope) -> None:
        try:
            super().require_scope(principal, scope)
        except ApiError as error:
            raise ApiError(401, error.code, error.message, extra=error.extra) from None


class OnlyFirstScopeCounts(Policy):
    """A key is judged by the first of its scopes only."""

    def require_scope(self, principal, scope) -> None:
        if isinstance(principal, KeyPrincipal) and principal.key.scopes[:1] != (scope,):
            raise errors.insufficient_scope(scope)


class UserLacksOrganizationRead(Policy):
    def require_scope(self, principal, scope) -> None:
        if isinstance(principal, UserPrincipal) and scope == "organization:read":
            raise errors.insufficient_scope(scope)
        super().require_scope(principal, scope)


class RequiredScopeNotNamed(ErrorResponder):
    def body(self, error):
        body = super().body(error)
        body.pop("requiredScope", None)
        return body


# -- isolation ------------------------------------------------------------------


class ProjectsVisibleAcrossOrganizations(Policy):
    def ensure_project_visible(self, principal, project) -> None:
        return None


class ProjectsOfOthersAre403(Policy):
    def ensure_project_visible(self, principal, project) -> None:
        if project.organization_id != principal.organization_id:
            raise ApiError(403, "forbidden", "This project belongs to another organization.")


class ProjectsOfOthersSaySo(Policy):
    """404, but with an error code a missing project never gets: existence leaks."""

    def ensure_project_visible(self, principal, project) -> None:
        if project.organization_id != principal.organization_id:
            raise ApiError(404, "not_in_your_organization", "This project belongs to another organization.")


class KeysVisibleAcrossOrganizations(Policy):
    def ensure_key_visible(self, principal, key) -> None:
        return None


class KeysOfOthersAre403(Policy):
    def ensure_key_visible(self, principal, key) -> None:
        if key.organization_id != principal.organization_id:
            raise ApiError(403, "forbidden", "This API key belongs to another organization.")


class KeysOfOthersSaySo(Policy):
    def ensure_key_visible(self, principal, key) -> None:
        if key.organization_id != principal.organization_id:
            raise ApiError(404, "not_in_your_organization", "This API key belongs to another organization.")


class ProjectsListedAcrossOrganizations(Projects):
    def list(self, organization_id):
        return [self._project(row) for row in self.store.query("SELECT * FROM projects ORDER BY created_at, id")]


class KeysListedAcrossOrganizations(ApiKeys):
    def list(self, organization_id):
        rows = self.store.query("SELECT * FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at, id")
        return [self._record(row) for row in rows]


def _policy(cls):
    return swap("policy", lambda p: cls())


SCOPE_TABLE = ("BSK-SCP-001", "BSK-SCP-002", "BSK-SCP-003", "BSK-SCP-004", "BSK-SCP-005")

VARIANTS = [
    Variant(
        name="scopes_ignored",
        breaks="a key lacking the scope gets 403 insufficient_scope",
        trips=(*SCOPE_TABLE, "BSK-SCP-007"),
        factory=_policy(ScopesIgnored),
    ),
    Variant(
        name="missing_scope_is_401",
        breaks="a key lacking the scope gets 403 (not 401)",
        trips=(*SCOPE_TABLE, "BSK-SCP-007"),
        factory=_policy(MissingScopeIs401),
    ),
    Variant(
        name="required_scope_not_named",
        breaks='403 {"error":"insufficient_scope","requiredScope":"…"}',
        trips=SCOPE_TABLE,
        factory=swap("errors", lambda p: RequiredScopeNotNamed()),
    ),
    Variant(
        name="only_a_keys_first_scope_counts",
        breaks="scopes restrict endpoints: a key with several scopes may use each of them",
        trips=("BSK-SCP-007",),
        factory=_policy(OnlyFirstScopeCounts),
    ),
    Variant(
        name="bearer_token_lacks_organization_read",
        breaks="a user's bearer token carries every scope of its organization",
        trips=("BSK-SCP-006",),
        factory=_policy(UserLacksOrganizationRead),
    ),
    Variant(
        name="other_organizations_project_readable",
        breaks="404 for another organization's project",
        trips=("BSK-SCP-008", "BSK-SCP-009", "BSK-SCP-010"),
        factory=_policy(ProjectsVisibleAcrossOrganizations),
    ),
    Variant(
        name="other_organizations_project_is_403",
        breaks="404 (not 403) for another organization's project: no existence leak",
        trips=("BSK-SCP-008", "BSK-SCP-009", "BSK-SCP-010"),
        factory=_policy(ProjectsOfOthersAre403),
    ),
    Variant(
        name="other_organizations_project_404_says_so",
        breaks="no existence leak: another organization's project answers as a missing one",
        trips=("BSK-SCP-010",),
        factory=_policy(ProjectsOfOthersSaySo),
    ),
    Variant(
        name="other_organizations_key_visible",
        breaks="GET /api-keys/{id}: 404 for another organization's key",
        trips=("BSK-SCP-010", "BSK-SCP-011", "BSK-SCP-012"),
        factory=_policy(KeysVisibleAcrossOrganizations),
    ),
    Variant(
        name="other_organizations_key_is_403",
        breaks="another organization's objects answer 404 to every method",
        trips=("BSK-SCP-010", "BSK-SCP-011", "BSK-SCP-012"),
        factory=_policy(KeysOfOthersAre403),
    ),
    Variant(
        name="other_organizations_key_404_says_so",
        breaks="no existence leak: another organization's key answers as a missing one",
        trips=("BSK-SCP-010",),
        factory=_policy(KeysOfOthersSaySo),
    ),
    Variant(
        name="projects_listed_across_organizations",
        breaks="GET /projects: only the caller's organization",
        trips=("BSK-SCP-013",),
        factory=swap("projects", lambda p: ProjectsListedAcrossOrganizations(p.store, p.clock)),
    ),
    Variant(
        name="keys_listed_across_organizations",
        breaks="keys are scoped to a single organization: GET /api-keys lists the caller's",
        trips=("BSK-SCP-014",),
        factory=swap("keys", lambda p: KeysListedAcrossOrganizations(p.store, p.clock, p.settings.environment)),
    ),
]
