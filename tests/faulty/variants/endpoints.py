"""Faults in the endpoints' answers (contract §3): shapes, statuses, user-only
operations, and the one answer to every failed login."""

from __future__ import annotations

import dataclasses

from bsk_conformance.reference_server.accounts import Accounts, Organization
from bsk_conformance.reference_server.errors import ApiError
from bsk_conformance.reference_server.keys import ApiKeys
from bsk_conformance.reference_server.policy import Policy
from bsk_conformance.reference_server.projects import Projects
from tests.faulty.variant import Variant, swap

# -- Accounts ---------------------------------------------------------------------


class MeShowsTheUserIdAsEmail(Accounts):
    def get(self, user_id):
        user = super().get(user_id)
        return dataclasses.replace(user, email=user.id) if user is not None else None


class OrganizationWithoutName(Accounts):
    def organization(self, organization_id):
        found = super().organization(organization_id)
        return Organization(found.id, None) if found is not None else None  # type: ignore[arg-type]


class TellsUnknownEmails(Accounts):
    def unknown_account(self, email, password):
        self.passwords.verify(None, password)
        raise ApiError(401, "invalid_credentials", "No account has this email.")


# -- ApiKeys ----------------------------------------------------------------------


class MetadataWithoutName(ApiKeys):
    def describe(self, record, view, key=None):
        body = super().describe(record, view, key)
        if view != "created":
            body.pop("name")
        return body


# -- Policy -----------------------------------------------------------------------


class KeysManageKeys(Policy):
    """Lets any principal through the user-only endpoints: a key can list, read and revoke keys."""

    def require_user(self, principal):
        return principal


# -- Projects ---------------------------------------------------------------------


class CreatedProjectNameUppercased(Projects):
    def create(self, organization_id, name):
        project = super().create(organization_id, name)
        return dataclasses.replace(project, name=project.name.upper())


class EmptyProjectList(Projects):
    def list(self, organization_id):
        return []


class ProjectReadBackRenamed(Projects):
    def get(self, project_id):
        project = super().get(project_id)
        return dataclasses.replace(project, name=project.name + " (copy)") if project is not None else None


class DeleteKeepsProject(Projects):
    def delete(self, project_id) -> None:
        return None


def _accounts(cls):
    return swap("accounts", lambda p: cls(p.store, p.accounts.passwords))


def _projects(cls):
    return swap("projects", lambda p: cls(p.store, p.clock))


VARIANTS = [
    Variant(
        name="endpoints_me_email_is_the_user_id",
        breaks='GET /me answers {type:"user", userId, email, ...}: the email is the user\'s',
        trips=("BSK-EP-001",),
        factory=_accounts(MeShowsTheUserIdAsEmail),
    ),
    Variant(
        name="endpoints_organization_without_name",
        breaks="GET /organization answers 200 {id, name}",
        trips=("BSK-EP-002",),
        factory=_accounts(OrganizationWithoutName),
    ),
    Variant(
        name="endpoints_key_metadata_without_name",
        breaks="GET /api-keys and GET /api-keys/{id} answer key metadata",
        trips=("BSK-EP-003",),
        factory=swap("keys", lambda p: MetadataWithoutName(p.store, p.clock, p.settings.environment)),
    ),
    Variant(
        name="endpoints_key_manages_keys",
        breaks="GET/DELETE /api-keys are for users only: an API key calling them gets 403",
        trips=("BSK-EP-004",),
        factory=swap("policy", lambda p: KeysManageKeys()),
    ),
    Variant(
        name="endpoints_created_project_renamed",
        breaks="POST /projects {name} answers 201 project",
        trips=("BSK-EP-005",),
        factory=_projects(CreatedProjectNameUppercased),
    ),
    Variant(
        name="endpoints_project_list_empty",
        breaks="GET /projects answers 200 {data: [project...]}",
        trips=("BSK-EP-006",),
        factory=_projects(EmptyProjectList),
    ),
    Variant(
        name="endpoints_project_read_back_renamed",
        breaks="GET /projects/{id} answers 200 project",
        trips=("BSK-EP-007",),
        factory=_projects(ProjectReadBackRenamed),
    ),
    Variant(
        name="endpoints_deleted_project_stays",
        breaks="DELETE /projects/{id} answers 204 (and the project is gone)",
        trips=("BSK-EP-008",),
        factory=_projects(DeleteKeepsProject),
    ),
    Variant(
        name="endpoints_unknown_email_answered_differently",
        breaks="401 invalid_credentials: the same body for an unknown email and a wrong password",
        trips=("BSK-EP-009",),
        factory=_accounts(TellsUnknownEmails),
    ),
]
