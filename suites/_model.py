"""A model of the contract, for the model-based run (suites/_model_machine.py).

It holds what the contract says the target's state is after the operations
sent so far: the two accounts and their organizations, their sessions
(access tokens and refresh-token families), keys with their scopes, budgets
and expiry, projects, 2FA, and the target's clock. For each operation it
predicts the answer: the status, the error code, the fields the contract
fixes and the headers. Each prediction names the requirement (an ID of the
catalogue) it enforces, so that a divergence fails that requirement.

Where the contract leaves a choice open (§8), a prediction allows every
conformant answer, and the model learns which one the target took:
- a boundary within the clock's tolerance (a test clock that keeps ticking);
- a key whose 403s may or may not have cost budget (the contract does not say
  whether a request refused for its scope counts toward the rate limit);
- the family of a refresh token presented after rotation (revoking it is a SHOULD);
- an access token after its logout (the contract revokes only the refresh token);
- a login throttle met after failed logins (its threshold and window are open).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bsk_conformance.harness.api import ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL, SCOPES

RATE_WINDOW = 60.0  # contract §5: any 60-second window
RATE_LIMIT_DEFAULT = 60  # contract §3: rateLimit default 60
SCOPE_OF = {  # contract §3: the scope each key-usable endpoint needs
    ("GET", "/organization"): "organization:read",
    ("GET", "/projects"): "projects:read",
    ("POST", "/projects"): "projects:write",
    ("GET", "/projects/{id}"): "projects:read",
    ("DELETE", "/projects/{id}"): "projects:write",
}
# The requirement a scoped endpoint's answer to a key enforces (allowed with the scope, 403 without).
SCOPE_REQUIREMENT = {
    ("GET", "/organization"): "BSK-SCP-001",
    ("GET", "/projects"): "BSK-SCP-002",
    ("GET", "/projects/{id}"): "BSK-SCP-003",
    ("POST", "/projects"): "BSK-SCP-004",
    ("DELETE", "/projects/{id}"): "BSK-SCP-005",
}
TOKEN_FIELDS = ("accessToken", "refreshToken", "tokenType", "expiresIn", "refreshExpiresIn")
KEY_FIELDS = ("id", "name", "prefix", "scopes", "rateLimit", "expiresAt", "organizationId", "createdAt")
PROJECT_FIELDS = ("id", "name", "organizationId", "createdAt")

# Whether a thing holds at the moment asked: the contract says yes, no, or (at a
# boundary within the clock's tolerance, or where it leaves the choice open) either.
YES, NO, EITHER = "yes", "no", "either"


@dataclass
class Clock:
    """The target's time as the model knows it, and how far off it may be."""

    now: float
    tolerance: float

    def before(self, moment: float) -> str:
        """Whether now is before `moment`, allowing the tolerance either side."""
        if self.now < moment - self.tolerance:
            return YES
        if self.now >= moment + self.tolerance:
            return NO
        return EITHER


@dataclass
class AccountState:
    name: str  # "alice" or "bob": the account's part in the run, never its email
    account: Any  # the profile's Account
    user_id: str
    organization_id: str
    two_factor: bool
    secret: str | None = None  # the TOTP secret, when 2FA is on or set up
    pending_secret: str | None = None
    enabled_here: bool = False  # 2FA turned on by this sequence: turn it off at its end
    last_code: str | None = None  # the last code accepted, for a replay
    failures: int = 0  # failed logins and wrong codes sent in this sequence


@dataclass
class Session:
    """A token pair from a login or a refresh; `family` groups a login's rotations."""

    owner: AccountState
    access_token: str
    refresh_token: str
    issued: float
    family: int
    from_refresh: bool = False
    refresh_state: str = "live"  # live, rotated, logged-out, family-revoked, unknown
    access_revoked: str = NO  # EITHER after a logout: the contract does not say

    def access_alive(self, clock: Clock) -> str:
        alive = clock.before(self.issued + ACCESS_TOKEN_TTL)
        if alive == NO or self.access_revoked == NO:
            return alive
        return EITHER


@dataclass
class Key:
    owner: AccountState
    id: str
    key: str
    name: str
    scopes: tuple[str, ...]
    rate_limit: int
    expires_at: float | None
    expires_at_text: str | None
    deleted: bool = False
    admitted: list[float] = field(default_factory=list)  # admitted requests, by the target's time
    maybe: list[float] = field(default_factory=list)  # refused for scope: counted or not, the contract is silent
    limited: bool = False  # answered 429 since it was last admitted

    def usable(self, clock: Clock) -> str:
        if self.deleted:
            return NO
        if self.expires_at is None:
            return YES
        return clock.before(self.expires_at)

    def in_window(self, clock: Clock) -> tuple[int, int, bool]:
        """(certainly counted, maybe counted, some request at the window's edge)."""
        edge = clock.now - RATE_WINDOW
        counted = [t for t in self.admitted if t > edge - clock.tolerance - 1]
        maybe = [t for t in self.maybe if t > edge - clock.tolerance - 1]
        certain = [t for t in counted if t > edge + clock.tolerance + 1]
        return len(certain), len(maybe) + len(counted) - len(certain), len(counted) != len(certain)

    def admission(self, clock: Clock) -> str:
        """Whether the next request is admitted: YES, NO (429) or EITHER."""
        certain, uncertain, _ = self.in_window(clock)
        if certain >= self.rate_limit:
            return NO
        if certain + uncertain < self.rate_limit:
            return YES
        return EITHER

    def allows(self, method: str, path: str) -> bool:
        return SCOPE_OF[(method, path)] in self.scopes


@dataclass
class Project:
    owner: AccountState
    id: str
    name: str
    deleted: bool = False


@dataclass
class Prediction:
    """What the contract says an answer is, and the requirement that says it."""

    requirement: str
    statuses: tuple[int, ...]
    error: str | None = None  # the body's `error` code, when the contract fixes it
    fields: dict[str, Any] = field(default_factory=dict)  # body fields the contract fixes, with their values
    present: tuple[str, ...] = ()  # body fields that must be there, whatever their value
    absent: tuple[str, ...] = ()  # body fields that must not be there
    headers: dict[str, str] = field(default_factory=dict)  # header (lower case) -> substring it must hold
    exact_headers: dict[str, str] = field(default_factory=dict)  # header (lower case) -> its whole value
    # a 401's challenge: 'realm="bsk"', or "invalid_token" for a rejected token; judged as the wire
    # requirements that fix it (BSK-WIRE-002, BSK-WIRE-004), not as the rule's (ContractModel.judge)
    challenge: str | None = None

    def problems(self, status: int, body: Any, headers: Any) -> list[str]:
        """How the answer differs from the prediction (empty: it does not)."""
        if status not in self.statuses:
            wanted = " or ".join(str(s) for s in self.statuses) + (f" {self.error}" if self.error else "")
            code = body.get("error") if isinstance(body, dict) else None
            return [f"HTTP {wanted}, got HTTP {status}{f' {code}' if isinstance(code, str) else ''}"]
        found: list[str] = []
        if status >= 400 and self.error is not None:
            code = body.get("error") if isinstance(body, dict) else None
            if code != self.error:
                found.append(f"error {self.error!r}, got {code!r}")
        if self.fields or self.present or self.absent:
            if not isinstance(body, dict):
                return [*found, "a JSON object body"]
            for name, value in self.fields.items():
                if not _same(body.get(name, _MISSING), value):
                    found.append(f"{name} = {_shown(value)}, got {_shown(body.get(name, _MISSING))}")
            found += [f"a {name} field" for name in self.present if name not in body]
            found += [f"no {name} field" for name in self.absent if name in body]
        for name, wanted in self.headers.items():
            value = headers.get(name)
            if value is None or wanted not in value:
                found.append(f"header {name} holding {wanted!r}, got {value!r}")
        for name, wanted in self.exact_headers.items():
            value = headers.get(name)
            if value is None or value.strip() != wanted:
                found.append(f"header {name}: {wanted}, got {value!r}")
        return found


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


_MISSING = _Missing()


def _same(observed: Any, wanted: Any) -> bool:
    if isinstance(wanted, (list, tuple, set, frozenset)) and isinstance(observed, list):
        return sorted(map(str, observed)) == sorted(map(str, wanted))  # list order is free (§8)
    return observed == wanted and type(observed) is type(wanted)


def _shown(value: Any) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ", ".join(sorted(map(str, value))) + "]"
    return repr(value)


# -- predictions, by operation -------------------------------------------------------------


def error(requirement: str, status: int, code: str | None = None, *, bearer: bool = False,
          invalid_token: bool = False) -> Prediction:
    """An error answer: its status and error code, the rule's; for a 401 to a bearer-protected
    request, its challenge. The §2 body's shape is BSK-WIRE-001's and the challenge the wire
    requirements', judged with every error answer (ContractModel.judge): a target that leaves out a
    message or a challenge breaks those, not the rule whose refusal carried them."""
    challenge = None
    if status == 401 and bearer:
        challenge = "invalid_token" if invalid_token else 'realm="bsk"'
    return Prediction(requirement, (status,), code, challenge=challenge)


def token_pair(requirement: str, *, refreshed: bool = False) -> Prediction:
    """A login's or refresh's 200: the pair in the documented shape, never cached. A refresh
    answers "the same shape as login": its refreshExpiresIn may count what is left of the
    family's life (whether rotation extends it is a SHOULD, BSK-REF-004)."""
    fields: dict[str, Any] = {"tokenType": "Bearer", "expiresIn": ACCESS_TOKEN_TTL}
    if not refreshed:
        fields["refreshExpiresIn"] = REFRESH_TOKEN_TTL
    return Prediction(
        requirement,
        (200,),
        fields=fields,
        present=("accessToken", "refreshToken", "refreshExpiresIn"),
        headers={"cache-control": "no-store"},
    )


def me_as_user(requirement: str, owner: AccountState) -> Prediction:
    return Prediction(
        requirement,
        (200,),
        fields={
            "type": "user",
            "userId": owner.user_id,
            "email": owner.account.email,
            "organizationId": owner.organization_id,
            "twoFactorEnabled": owner.two_factor,
        },
    )


def me_as_key(key: Key) -> Prediction:
    return Prediction(
        "BSK-KEY-022",
        (200,),
        fields={"type": "api_key", "keyId": key.id, "organizationId": key.owner.organization_id,
                "scopes": list(key.scopes)},
    )


def key_metadata(requirement: str, key: Key, status: int = 200) -> Prediction:
    """A key's metadata as created; never the key (BSK-KEY-002/003 say so for reads)."""
    return Prediction(
        requirement,
        (status,),
        fields={
            "id": key.id,
            "name": key.name,
            "scopes": list(key.scopes),
            "rateLimit": key.rate_limit,
            "organizationId": key.owner.organization_id,
        },
        present=("prefix", "createdAt", "expiresAt"),
        absent=("key",) if status == 200 else (),
    )


def project_body(requirement: str, project: Project, status: int = 200) -> Prediction:
    return Prediction(
        requirement,
        (status,),
        fields={"id": project.id, "name": project.name, "organizationId": project.owner.organization_id},
        present=("createdAt",),
    )


def ids_of(listing: Any) -> list[str] | None:
    """The ids of a `{data: [...]}` answer, or None when it is not one."""
    if not isinstance(listing, dict) or not isinstance(listing.get("data"), list):
        return None
    return [str(item.get("id")) for item in listing["data"] if isinstance(item, dict)]


def by_id(listing: Any) -> dict[str, dict]:
    if not isinstance(listing, dict) or not isinstance(listing.get("data"), list):
        return {}
    return {str(item.get("id")): item for item in listing["data"] if isinstance(item, dict)}


def all_scopes() -> tuple[str, ...]:
    return tuple(SCOPES)


def subsets(scopes: Iterable[str]) -> list[tuple[str, ...]]:
    """Every subset of `scopes`, in a fixed order (the empty one first)."""
    items = sorted(scopes)
    return [tuple(s for i, s in enumerate(items) if mask >> i & 1) for mask in range(1 << len(items))]
