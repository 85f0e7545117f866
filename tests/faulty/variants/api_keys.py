"""Faults in API keys: shown once, their shape, which keys are refused, what
creation accepts (contract §1, §3, §4, §8)."""

from __future__ import annotations

import dataclasses
import re
import secrets

from bsk_conformance.reference_server import errors
from bsk_conformance.reference_server.bodies import BodyParser
from bsk_conformance.reference_server.clock import parse_timestamp
from bsk_conformance.reference_server.errors import ApiError, ErrorResponder
from bsk_conformance.reference_server.keys import SCOPES, ApiKeys
from bsk_conformance.reference_server.models import CreateApiKeyBody
from bsk_conformance.reference_server.settings import KEY_PREFIXES
from tests.faulty.variant import Variant, swap

# -- ApiKeys -------------------------------------------------------------------


class KeyShownAgain(ApiKeys):
    """Keeps each key it issues (as a plaintext store would) and adds it to the metadata of `views`."""

    views: tuple[str, ...] = ()

    def describe(self, record, view, key=None):
        shown = self.__dict__.setdefault("_shown", {})
        body = super().describe(record, view, key)
        if view == "created" and key is not None:
            shown[record.id] = key
        elif view in self.views and record.id in shown:
            body["key"] = shown[record.id]
        return body


class GetShowsKey(KeyShownAgain):
    views = ("get",)


class ListShowsKey(KeyShownAgain):
    views = ("list",)


class LastFourHint(ApiKeys):
    """Stores the key's last four characters at creation and shows them in
    every view as `lastFour`, as many dashboards do ("…wxyz"): four
    characters of the secret beyond the prefix."""

    def describe(self, record, view, key=None):
        hints = self.__dict__.setdefault("_last_four", {})
        if view == "created" and key is not None:
            hints[record.id] = key[-4:]
        body = super().describe(record, view, key)
        if record.id in hints:
            body["lastFour"] = hints[record.id]
        return body


class CreatedWithoutCreatedAt(ApiKeys):
    def describe(self, record, view, key=None):
        body = super().describe(record, view, key)
        if view == "created":
            body.pop("createdAt", None)
        return body


class PlainBskPrefix(ApiKeys):
    def key_prefix(self) -> str:
        return "bsk_"


class LivePrefixInTest(ApiKeys):
    def key_prefix(self) -> str:
        return "bsk_live_"


class ShortSecret(ApiKeys):
    def new_secret(self) -> str:
        return super().new_secret()[:16]


class HexSecret(ApiKeys):
    def new_secret(self) -> str:
        return "".join(secrets.choice("0123456789abcdef") for _ in range(40))


class TwelveCharacterPrefix(ApiKeys):
    def display_prefix(self, key: str) -> str:
        return key[: len(self.key_prefix()) + 12]


class PrefixFromTheEnd(ApiKeys):
    def display_prefix(self, key: str) -> str:
        return self.key_prefix() + key[-8:]


class OtherEnvironmentAccepted(ApiKeys):
    def authenticate(self, presented: str):
        own = self.key_prefix()
        for prefix in KEY_PREFIXES.values():
            if prefix != own and presented.startswith(prefix):
                presented = own + presented[len(prefix):]
        return super().authenticate(presented)


class UnknownKeyIsAnonymous(ApiKeys):
    def authenticate(self, presented: str):
        well_formed = re.fullmatch(re.escape(self.key_prefix()) + r"[A-Za-z0-9]{32,256}", presented)
        known = self.store.query_one("SELECT 1 FROM api_keys WHERE digest = ?", (self.digest(presented),))
        if well_formed and known is None:
            raise errors.authentication_required()
        return super().authenticate(presented)


class MalformedKeyIs400(ApiKeys):
    def authenticate(self, presented: str):
        if not re.fullmatch(r"bsk_(test|live)_[A-Za-z0-9]+", presented):
            raise errors.invalid_request("X-API-Key: not an API key.")
        return super().authenticate(presented)


class KeyEchoedInError(ApiKeys):
    def authenticate(self, presented: str):
        try:
            return super().authenticate(presented)
        except ApiError as error:
            message = f"The API key {presented} is invalid, expired or revoked."
            raise ApiError(401, "invalid_api_key", message) from error


class RevokedStillWorks(ApiKeys):
    def is_revoked(self, record) -> bool:
        return False


class ExpiredStillWorks(ApiKeys):
    def is_expired(self, record, now) -> bool:
        return False


class KeyActsInAnotherOrganization(ApiKeys):
    def authenticate(self, presented: str):
        record = super().authenticate(presented)
        other = self.store.query_one("SELECT id FROM organizations WHERE id != ? ORDER BY id LIMIT 1",
                                     (record.organization_id,))
        return dataclasses.replace(record, organization_id=other["id"]) if other else record


class KeyListHidesLiveKeysWithAnExpiry(ApiKeys):
    """A filter meant to drop expired keys from the listing, written the wrong way round
    (`expires_at IS NULL OR expires_at <= now`): a key that expires later is missing from
    GET /api-keys while it still works, and an expired one is listed."""

    def list(self, organization_id):
        now = self.clock.now()
        return [r for r in super().list(organization_id) if r.expires_at is None or r.expires_at <= now]


# -- BodyParser (POST /api-keys validation) --------------------------------------


class _KeyBodyFault(BodyParser):
    """Changes the body of POST /api-keys before the honest validation."""

    def validate(self, data, model):
        if model is CreateApiKeyBody and isinstance(data, dict):
            data = self.alter(dict(data))
        return super().validate(data, model)

    def alter(self, data: dict) -> dict:
        return data


class UnknownScopesDropped(_KeyBodyFault):
    def alter(self, data):
        if isinstance(data.get("scopes"), list):
            data["scopes"] = [s for s in data["scopes"] if s in SCOPES]
        return data


class RateLimitClamped(_KeyBodyFault):
    def alter(self, data):
        limit = data.get("rateLimit")
        if isinstance(limit, int) and not isinstance(limit, bool):
            data["rateLimit"] = min(max(limit, 1), 10_000)
        return data


class PastExpiryMeansNever(_KeyBodyFault):
    def __init__(self, max_bytes: int, clock) -> None:
        super().__init__(max_bytes)
        self.clock = clock

    def alter(self, data):
        try:
            if isinstance(data.get("expiresAt"), str) and parse_timestamp(data["expiresAt"]) <= self.clock.now():
                data["expiresAt"] = None
        except ValueError:
            pass
        return data


class ScopesDefaultToEmpty(_KeyBodyFault):
    def alter(self, data):
        data.setdefault("scopes", [])
        return data


class EmptyScopesRefused(_KeyBodyFault):
    def alter(self, data):
        if data.get("scopes") == []:
            raise errors.invalid_request("scopes: name at least one scope.")
        return data


class RateLimitDefault100(_KeyBodyFault):
    def alter(self, data):
        data.setdefault("rateLimit", 100)
        return data


class RateLimitBelow10000(_KeyBodyFault):
    def alter(self, data):
        if data.get("rateLimit") == 10_000:
            raise errors.invalid_request("rateLimit: must be less than 10000.")
        return data


# -- ErrorResponder ---------------------------------------------------------------


class KeyOnUserEndpointIs401(ErrorResponder):
    def status(self, error) -> int:
        return 401 if error.code == "user_token_required" else super().status(error)


def _keys(cls):
    return swap("keys", lambda p: cls(p.store, p.clock, p.settings.environment))


def _bodies(cls):
    return swap("bodies", lambda p: cls(p.bodies.max_bytes))


VARIANTS = [
    Variant(
        name="created_key_without_created_at",
        breaks="POST /api-keys answers 201 {id, name, key, prefix, scopes, rateLimit, expiresAt, organizationId, "
               "createdAt}",
        trips=("BSK-KEY-001",),
        factory=_keys(CreatedWithoutCreatedAt),
    ),
    Variant(
        name="get_returns_the_full_key",
        breaks="metadata never holds key (GET /api-keys/{id})",
        trips=("BSK-KEY-002", "BSK-KEY-004"),
        factory=_keys(GetShowsKey),
    ),
    Variant(
        name="list_returns_the_full_key",
        breaks="metadata never holds key (GET /api-keys)",
        trips=("BSK-KEY-003", "BSK-KEY-004"),
        factory=_keys(ListShowsKey),
    ),
    Variant(
        name="metadata_shows_the_last_four_characters",
        breaks="metadata never holds anything of the secret beyond prefix (a last-four hint)",
        trips=("BSK-KEY-002", "BSK-KEY-003", "BSK-KEY-004"),
        factory=_keys(LastFourHint),
    ),
    Variant(
        name="rejected_key_echoed_in_the_error",
        breaks="the full key is shown only once, at creation",
        trips=("BSK-KEY-004",),
        factory=_keys(KeyEchoedInError),
    ),
    Variant(
        name="keys_start_with_bsk_only",
        breaks="API key: bsk_test_ or bsk_live_, then at least 32 characters of [A-Za-z0-9]",
        trips=("BSK-KEY-005", "BSK-KEY-006", "BSK-KEY-008"),
        factory=_keys(PlainBskPrefix),
    ),
    Variant(
        name="test_deployment_issues_bsk_live",
        breaks="bsk_test_ in test environments",
        trips=("BSK-KEY-006",),
        factory=_keys(LivePrefixInTest),
    ),
    Variant(
        name="key_secret_is_16_characters",
        breaks="at least 32 characters of [A-Za-z0-9]",
        trips=("BSK-KEY-005",),
        factory=_keys(ShortSecret),
    ),
    Variant(
        name="key_secret_is_hex",
        breaks="[A-Za-z0-9] from a CSPRNG (a 16-character alphabet)",
        trips=("BSK-KEY-007",),
        factory=_keys(HexSecret),
    ),
    Variant(
        name="metadata_prefix_shows_12_secret_characters",
        breaks="prefix in metadata is the environment prefix plus at most the first 8 secret characters",
        trips=("BSK-KEY-008", "BSK-KEY-002", "BSK-KEY-003", "BSK-KEY-004"),
        factory=_keys(TwelveCharacterPrefix),
    ),
    Variant(
        name="metadata_prefix_is_the_end_of_the_key",
        breaks="prefix in metadata is the environment prefix plus the FIRST secret characters",
        trips=("BSK-KEY-008",),
        factory=_keys(PrefixFromTheEnd),
    ),
    Variant(
        name="other_environment_key_accepted",
        breaks="a key of the other environment's prefix is rejected with 401 invalid_api_key",
        trips=("BSK-KEY-009",),
        factory=_keys(OtherEnvironmentAccepted),
    ),
    Variant(
        name="unknown_key_is_anonymous",
        breaks="unknown keys: 401 invalid_api_key",
        trips=("BSK-KEY-010",),
        factory=_keys(UnknownKeyIsAnonymous),
    ),
    Variant(
        name="malformed_key_is_400",
        breaks="malformed keys: 401 invalid_api_key",
        trips=("BSK-KEY-011",),
        factory=_keys(MalformedKeyIs400),
    ),
    Variant(
        name="revoked_key_still_works",
        breaks="revoked keys: 401 invalid_api_key; DELETE: the key stops working at once",
        trips=("BSK-KEY-012", "BSK-KEY-013"),
        factory=_keys(RevokedStillWorks),
    ),
    Variant(
        name="expired_key_still_works",
        breaks="expired keys: 401 invalid_api_key",
        trips=("BSK-KEY-014",),
        factory=_keys(ExpiredStillWorks),
    ),
    Variant(
        name="unknown_scope_silently_dropped",
        breaks="POST /api-keys: 400 invalid_request for unknown scopes",
        trips=("BSK-KEY-015",),
        factory=_bodies(UnknownScopesDropped),
    ),
    Variant(
        name="rate_limit_clamped_not_refused",
        breaks="rateLimit outside 1..10000 is 400",
        trips=("BSK-KEY-016",),
        factory=_bodies(RateLimitClamped),
    ),
    Variant(
        name="past_expiry_means_never",
        breaks="POST /api-keys: 400 invalid_request for past expiry",
        trips=("BSK-KEY-017",),
        factory=swap("bodies", lambda p: PastExpiryMeansNever(p.bodies.max_bytes, p.clock)),
    ),
    Variant(
        name="missing_scopes_default_to_none",
        breaks="name and scopes are required on POST /api-keys",
        trips=("BSK-KEY-018",),
        factory=_bodies(ScopesDefaultToEmpty),
    ),
    Variant(
        name="empty_scopes_refused",
        breaks="scopes (possibly empty) are required",
        trips=("BSK-KEY-019",),
        factory=_bodies(EmptyScopesRefused),
    ),
    Variant(
        name="rate_limit_defaults_to_100",
        breaks="rateLimit default 60",
        trips=("BSK-KEY-020",),
        factory=_bodies(RateLimitDefault100),
    ),
    Variant(
        name="rate_limit_10000_refused",
        breaks="rateLimit 1..10000 (10000 included)",
        trips=("BSK-KEY-021",),
        factory=_bodies(RateLimitBelow10000),
    ),
    Variant(
        name="key_acts_in_another_organization",
        breaks="key properties: scoped to a single organization",
        trips=("BSK-KEY-022",),
        factory=_keys(KeyActsInAnotherOrganization),
    ),
    Variant(
        name="key_on_key_management_is_401",
        breaks="POST /api-keys: an API key calling it gets 403",
        trips=("BSK-KEY-023",),
        factory=swap("errors", lambda p: KeyOnUserEndpointIs401()),
    ),
    Variant(
        name="key_list_hides_live_keys_with_an_expiry",
        breaks="GET /api-keys: 200 {data: [key metadata…]}: every key the caller created and has not "
               "deleted is listed",
        trips=("BSK-MODEL-001",),
        factory=_keys(KeyListHidesLiveKeysWithAnExpiry),
        model_run=True,
    ),
]
