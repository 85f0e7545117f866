"""Faults in when things happened, self-consistent in what the target says
about itself (contract §1, §3, §4, §5): only a harness that judges against
what it observed catches them."""

from __future__ import annotations

import dataclasses
import math
import re
import uuid
from typing import Any

from bsk_conformance.reference_server.bodies import BodyParser
from bsk_conformance.reference_server.errors import ErrorResponder
from bsk_conformance.reference_server.keys import ApiKeys
from bsk_conformance.reference_server.models import CreateApiKeyBody
from bsk_conformance.reference_server.projects import Project, Projects
from bsk_conformance.reference_server.ratelimit import RateDecision, RateLimiter
from bsk_conformance.reference_server.tokens import TokenService
from tests.faulty.variant import Variant, swap

SKEW = 300  # seconds: a token service whose clock (or whose issue time) is five minutes off
HOUR = 3600
_OFFSET = re.compile(r"([+-]\d{2}:\d{2}|[Zz])$")


class BackdatedTokens(TokenService):
    """iat, nbf and exp all 300 s early (the issuer's clock lags): exp - iat is
    still 900, and the token is still refused at its own exp, 600 s after issue."""

    def access_claims(self, user_id: str, organization_id: str) -> dict[str, Any]:
        claims = super().access_claims(user_id, organization_id)
        return {**claims, "iat": claims["iat"] - SKEW, "nbf": claims["nbf"] - SKEW, "exp": claims["exp"] - SKEW}


class StampedAheadTokens(TokenService):
    """iat and exp 300 s late (a node whose clock runs ahead; nbf left at now so
    the token works at once): the token lives 1200 s."""

    def access_claims(self, user_id: str, organization_id: str) -> dict[str, Any]:
        claims = super().access_claims(user_id, organization_id)
        return {**claims, "iat": claims["iat"] + SKEW, "exp": claims["exp"] + SKEW}


class KeyCreatedAtLocalTime(ApiKeys):
    """createdAt written from a server in UTC+1 as if its local time were UTC."""

    def describe(self, record, view, key=None) -> dict[str, Any]:
        return super().describe(dataclasses.replace(record, created_at=record.created_at + HOUR), view, key)


class ProjectCreatedAtLocalTime(Projects):
    """A project's createdAt stored from a server in UTC+1 as if its local time were UTC."""

    def create(self, organization_id: str, name: str) -> Project:
        project = Project("prj_" + uuid.uuid4().hex, organization_id, name, self.clock.now() + HOUR)
        self.store.execute(
            "INSERT INTO projects (id, organization_id, name, created_at) VALUES (?, ?, ?, ?)",
            (project.id, project.organization_id, project.name, project.created_at),
        )
        return project


class ExpiryOffsetDropped(BodyParser):
    """expiresAt read without its offset: `10:00:00+02:00` is taken as `10:00:00Z`,
    two hours late (a hand-written parser that stops at the seconds)."""

    def validate(self, data: Any, model):
        if model is CreateApiKeyBody and isinstance(data, dict) and isinstance(data.get("expiresAt"), str):
            data = {**data, "expiresAt": _OFFSET.sub("Z", data["expiresAt"])}
        return super().validate(data, model)


class ExpiryShownInLocalTime(ApiKeys):
    """Metadata writes expiresAt in the server's local time (UTC+2) with a `Z`:
    the key expires when it should, its metadata names another instant."""

    def describe(self, record, view, key=None) -> dict[str, Any]:
        body = super().describe(record, view, key)
        if record.expires_at is not None:
            body["expiresAt"] = super().describe(
                dataclasses.replace(record, expires_at=record.expires_at + 2 * HOUR), view)["expiresAt"]
        return body


class ResetCountedFromTheRefusal(RateLimiter):
    """X-RateLimit-Reset (and so Retry-After) a whole window from each request,
    not from when the window's first admitted request leaves it."""

    def admit(self, key_id: str, limit: int) -> RateDecision:
        decision = super().admit(key_id, limit)
        return dataclasses.replace(decision, reset=math.ceil(self.window()))


class RetryAfterAFullWindow(ErrorResponder):
    """Retry-After on a rate-limit 429 is always the whole window (60 s); X-RateLimit-Reset stays exact."""

    def retry_after(self, error) -> str | None:
        if error.code == "rate_limited":
            return "60"
        return super().retry_after(error)


VARIANTS = [
    Variant(
        name="access_token_backdated_300s",
        breaks="an access token lives 900 s from its issue (iat, nbf and exp all 300 s early, exp - iat = 900)",
        trips=("BSK-OBS-001", "BSK-OBS-002"),
        factory=swap("tokens", lambda p: BackdatedTokens(p.store, p.clock)),
    ),
    Variant(
        name="access_token_stamped_300s_ahead",
        breaks="an access token lives 900 s from its issue (iat and exp 300 s late, exp - iat = 900)",
        trips=("BSK-OBS-001", "BSK-OBS-002"),
        factory=swap("tokens", lambda p: StampedAheadTokens(p.store, p.clock)),
    ),
    Variant(
        name="key_created_at_an_hour_ahead",
        breaks="a key's createdAt is when it was created (local UTC+1 time written as UTC)",
        trips=("BSK-OBS-003",),
        factory=swap("keys", lambda p: KeyCreatedAtLocalTime(p.store, p.clock, p.settings.environment)),
    ),
    Variant(
        name="project_created_at_an_hour_ahead",
        breaks="a project's createdAt is when it was created (local UTC+1 time stored as UTC)",
        trips=("BSK-OBS-004",),
        factory=swap("projects", lambda p: ProjectCreatedAtLocalTime(p.store, p.clock)),
    ),
    Variant(
        name="expires_at_offset_dropped",
        breaks="a key expires at the instant sent (the offset of expiresAt is dropped: +02:00 read as Z)",
        trips=("BSK-OBS-005",),
        factory=swap("bodies", lambda p: ExpiryOffsetDropped(p.bodies.max_bytes)),
    ),
    Variant(
        name="expires_at_shown_in_local_time",
        breaks="key metadata names the expiresAt sent (written in UTC+2 local time with a Z)",
        trips=("BSK-OBS-005",),
        factory=swap("keys", lambda p: ExpiryShownInLocalTime(p.store, p.clock, p.settings.environment)),
    ),
    Variant(
        name="rate_limit_reset_counted_from_the_refusal",
        breaks="X-RateLimit-Reset: seconds until the window frees a slot (a whole window from every request)",
        trips=("BSK-OBS-006", "BSK-OBS-007"),
        factory=swap("rate_limiter", lambda p: ResetCountedFromTheRefusal(p.clock)),
    ),
    Variant(
        name="retry_after_a_full_window",
        breaks="Retry-After: how long until a retry is admitted (always the whole 60 s window)",
        trips=("BSK-OBS-007",),
        factory=swap("errors", lambda p: RetryAfterAFullWindow()),
    ),
]
