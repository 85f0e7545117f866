"""Faults of property-level authorization: extra request fields honoured (contract §3, §4, §8).

Each variant is the way a vendor really gets here: a body model that binds
every member it finds ("mass assignment"), a legacy alias kept for an old
client, an admin's impersonation parameter left on the public login, a key
import feature reachable from the ordinary create call. The honest body
parser is replaced by one that remembers the decoded body (`SENT`, a context
variable: one request's body, seen only by the part of the server that
serves that request), and one other part reads a field from it.
"""

from __future__ import annotations

import contextvars
import dataclasses
from collections.abc import Callable
from typing import Any

from bsk_conformance.reference_server.bodies import BodyParser
from bsk_conformance.reference_server.clock import parse_timestamp
from bsk_conformance.reference_server.keys import ApiKeyRecord, ApiKeys
from bsk_conformance.reference_server.projects import Project, Projects
from bsk_conformance.reference_server.tokens import TokenService
from bsk_conformance.reference_server.two_factor import TwoFactor
from tests.faulty.variant import AppFactory, Variant

#: the JSON body of the request being served, as decoded
SENT: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("sent", default={})


class RemembersBody(BodyParser):
    def validate(self, data, model):
        SENT.set(data if isinstance(data, dict) else {})
        return super().validate(data, model)


def honouring(part: str, make: Callable[[Any], Any]) -> AppFactory:
    """The honest server with the remembering body parser and `part` replaced."""

    def factory(settings: Any, clock: Any) -> Any:
        from bsk_conformance.reference_server import create_app
        from bsk_conformance.reference_server.parts import Parts

        parts = Parts.build(settings, clock)
        return create_app(parts=dataclasses.replace(parts, bodies=RemembersBody(parts.bodies.max_bytes),
                                                    **{part: make(parts)}))

    return factory


def _sent_string(name: str) -> str | None:
    value = SENT.get().get(name)
    return value if isinstance(value, str) and value else None


# -- where an object lives --------------------------------------------------------


class ProjectInBodyOrganization(Projects):
    """The project model binds organizationId from the body, over the caller's."""

    def create(self, organization_id: str, name: str) -> Project:
        return super().create(_sent_string("organizationId") or organization_id, name)


class KeyInBodyOrganization(ApiKeys):
    """The key model binds organization_id (a snake_case alias) from the body."""

    def create(self, *, organization_id: str, **rest: Any) -> tuple[ApiKeyRecord, str]:
        return super().create(organization_id=_sent_string("organization_id") or organization_id, **rest)


# -- what the server alone decides ---------------------------------------------------


class KeyImportedFromBody(ApiKeys):
    """"Bring your own key": a key in the body is stored as it is, prefix and all."""

    def create(self, **fields: Any) -> tuple[ApiKeyRecord, str]:
        chosen = _sent_string("key")
        if chosen is None:
            return super().create(**fields)
        original, self.new_secret = self.new_secret, lambda: chosen[len(self.key_prefix()):]
        try:
            return super().create(**fields)
        finally:
            self.new_secret = original


class PrefixFromBody(ApiKeys):
    """The prefix shown in metadata is whatever the body called it."""

    def create(self, **fields: Any) -> tuple[ApiKeyRecord, str]:
        record, key = super().create(**fields)
        chosen = _sent_string("prefix")
        if chosen is None:
            return record, key
        self.store.execute("UPDATE api_keys SET prefix = ? WHERE id = ?", (chosen, record.id))
        return dataclasses.replace(record, prefix=chosen), key


def _sent_moment(now: float) -> float:
    try:
        return parse_timestamp(_sent_string("createdAt") or "")
    except (ValueError, OverflowError):
        return now


class ProjectCreatedAtFromBody(Projects):
    """A data-import path: createdAt from the body is kept as the project's."""

    def create(self, organization_id: str, name: str) -> Project:
        project = super().create(organization_id, name)
        moment = _sent_moment(project.created_at)
        self.store.execute("UPDATE projects SET created_at = ? WHERE id = ?", (moment, project.id))
        return dataclasses.replace(project, created_at=moment)


class KeyCreatedAtFromBody(ApiKeys):
    def create(self, **fields: Any) -> tuple[ApiKeyRecord, str]:
        record, key = super().create(**fields)
        moment = _sent_moment(record.created_at)
        self.store.execute("UPDATE api_keys SET created_at = ? WHERE id = ?", (moment, record.id))
        return dataclasses.replace(record, created_at=moment), key


class KeyLimitsFromSnakeCase(ApiKeys):
    """A legacy client's rate_limit and expires_at still bound, past the
    validation that rateLimit and expiresAt get."""

    def create(self, *, rate_limit: int, expires_at: float | None, **rest: Any) -> tuple[ApiKeyRecord, str]:
        legacy_limit = SENT.get().get("rate_limit")
        if isinstance(legacy_limit, int):
            rate_limit = legacy_limit
        legacy_expiry = _sent_string("expires_at")
        if legacy_expiry is not None:
            try:
                expires_at = parse_timestamp(legacy_expiry)
            except (ValueError, OverflowError):
                pass
        return super().create(rate_limit=rate_limit, expires_at=expires_at, **rest)


class KeyScopesFromScopeString(ApiKeys):
    """An OAuth-style `scope` string is merged into the key's scopes."""

    def create(self, *, scopes: Any, **rest: Any) -> tuple[ApiKeyRecord, str]:
        extra = (_sent_string("scope") or "").split()
        return super().create(scopes=[*scopes, *extra], **rest)


# -- who a token is for ----------------------------------------------------------------


class LoginHonoursUserId(TokenService):
    """An impersonation parameter of the admin console, left on the public
    login (and refresh): tokens for the user the body names."""

    def issue_pair(self, user_id: str, organization_id: str):
        named = _sent_string("userId")
        if named is not None:
            row = self.store.query_one("SELECT organization_id FROM users WHERE id = ?", (named,))
            if row is not None:
                user_id, organization_id = named, row["organization_id"]
        return super().issue_pair(user_id, organization_id)


class LoginHonoursTwoFactorFlag(TwoFactor):
    """The client says whether the user has 2FA: twoFactorEnabled false skips the code."""

    def required_for(self, user) -> bool:
        if SENT.get().get("twoFactorEnabled") is False:
            return False
        return super().required_for(user)


def _keys(cls) -> Callable[[Any], Any]:
    return lambda p: cls(p.store, p.clock, p.settings.environment)


def _projects(cls) -> Callable[[Any], Any]:
    return lambda p: cls(p.store, p.clock)


VARIANTS = [
    Variant(
        name="project_created_in_body_organization",
        breaks="POST /projects: the project is the caller's organization's, whatever organizationId the body names",
        trips=("BSK-PROP-001",),
        factory=honouring("projects", _projects(ProjectInBodyOrganization)),
    ),
    Variant(
        name="key_created_in_body_organization",
        breaks="POST /api-keys: the key belongs to its creator's organization, whatever organization_id the body names",
        trips=("BSK-PROP-002",),
        factory=honouring("keys", _keys(KeyInBodyOrganization)),
    ),
    Variant(
        name="key_imported_from_body",
        breaks="API key: ... from a CSPRNG (a key in the body is stored and shown as the new key)",
        trips=("BSK-PROP-003",),
        factory=honouring("keys", _keys(KeyImportedFromBody)),
    ),
    Variant(
        name="key_prefix_from_body",
        breaks="prefix in metadata is the environment prefix plus at most the first 8 secret characters",
        trips=("BSK-PROP-003",),
        factory=honouring("keys", _keys(PrefixFromBody)),
    ),
    Variant(
        name="project_created_at_from_body",
        breaks="createdAt is the server's: a project keeps the createdAt its body named",
        trips=("BSK-PROP-004",),
        factory=honouring("projects", _projects(ProjectCreatedAtFromBody)),
    ),
    Variant(
        name="key_created_at_from_body",
        breaks="createdAt is the server's: a key keeps the createdAt its body named",
        trips=("BSK-PROP-004",),
        factory=honouring("keys", _keys(KeyCreatedAtFromBody)),
    ),
    Variant(
        name="key_limits_from_snake_case_fields",
        breaks="rateLimit 1..10000, default 60; expiresAt null = never (rate_limit and expires_at honoured unchecked)",
        trips=("BSK-PROP-005",),
        factory=honouring("keys", _keys(KeyLimitsFromSnakeCase)),
    ),
    Variant(
        name="key_scopes_from_scope_string",
        breaks="scopes restrict endpoints (an OAuth-style scope string in the body adds scopes)",
        trips=("BSK-PROP-006",),
        factory=honouring("keys", _keys(KeyScopesFromScopeString)),
    ),
    Variant(
        name="login_honours_user_id",
        breaks="POST /auth/login: 401 invalid_credentials for a wrong password (a userId in the body picks the user)",
        trips=("BSK-PROP-007",),
        factory=honouring("tokens", lambda p: LoginHonoursUserId(p.store, p.clock)),
    ),
    Variant(
        name="login_honours_two_factor_flag",
        breaks="if the user has 2FA enabled, login must include twoFactorCode (twoFactorEnabled false skips it)",
        trips=("BSK-PROP-008",),
        factory=honouring("two_factor", lambda p: LoginHonoursTwoFactorFlag(p.store, p.clock)),
    ),
]
