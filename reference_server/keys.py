"""API keys: creation, lookup, expiry and revocation (contract §4).

A key is ``bsk_test_`` or ``bsk_live_`` (by environment) and 40 characters
of ``[A-Za-z0-9]`` from ``secrets``: about 238 bits. The server keeps only
the display prefix (environment prefix + first 8 characters) and a SHA-256
digest of the whole key, and shows the key once, in the creation response.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import string
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from . import errors
from .clock import Clock, format_timestamp
from .settings import KEY_PREFIXES
from .store import Store

SCOPES = ("organization:read", "projects:read", "projects:write")
SECRET_LENGTH = 40
DISPLAYED_SECRET_CHARS = 8
_ALPHABET = string.ascii_letters + string.digits
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9]{1,256}")

View = Literal["created", "list", "get"]


@dataclass(frozen=True)
class ApiKeyRecord:
    """What the server knows about a key: everything but the key itself."""

    id: str
    organization_id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    rate_limit: int
    expires_at: float | None
    created_at: float
    revoked_at: float | None


class ApiKeys:
    """Issues keys and recognises them.

    Each rule is one method (``key_prefix``, ``new_secret``, ``digest``,
    ``is_revoked``, ``is_expired``, ``describe``) so that a faulty variant
    breaks exactly one by overriding it.
    """

    def __init__(self, store: Store, clock: Clock, environment: str) -> None:
        self.store = store
        self.clock = clock
        self.environment = environment

    # -- the shape of a key ----------------------------------------------

    def key_prefix(self) -> str:
        """The environment's prefix: a live deployment never accepts a test key, nor the reverse."""
        return KEY_PREFIXES[self.environment]

    def new_secret(self) -> str:
        return "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_LENGTH))

    def digest(self, key: str) -> str:
        """One-way hash of a whole key, stored instead of the key.

        Plain SHA-256 is right here, unlike for passwords: the input has
        ~238 bits of entropy, so there is nothing to brute-force and no salt
        or slow hash is needed, and a deterministic digest lets a key be
        found by an indexed lookup instead of a scan.
        """
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    def display_prefix(self, key: str) -> str:
        """The part of a key that metadata may show: environment prefix + 8 characters."""
        prefix = self.key_prefix()
        return key[: len(prefix) + DISPLAYED_SECRET_CHARS]

    # -- lifecycle -------------------------------------------------------

    def create(
        self,
        *,
        organization_id: str,
        created_by: str,
        name: str,
        scopes: Iterable[str],
        rate_limit: int,
        expires_at: float | None,
    ) -> tuple[ApiKeyRecord, str]:
        """Store a new key; return its record and the key, which is never available again."""
        key = self.key_prefix() + self.new_secret()
        record = ApiKeyRecord(
            id="key_" + uuid.uuid4().hex,
            organization_id=organization_id,
            name=name,
            prefix=self.display_prefix(key),
            scopes=tuple(scope for scope in SCOPES if scope in set(scopes)),
            rate_limit=rate_limit,
            expires_at=expires_at,
            created_at=self.clock.now(),
            revoked_at=None,
        )
        self.store.execute(
            """
            INSERT INTO api_keys (id, organization_id, name, prefix, digest, scopes, rate_limit,
                                  expires_at, created_at, created_by)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                record.id, record.organization_id, record.name, record.prefix, self.digest(key),
                json.dumps(list(record.scopes)), record.rate_limit, record.expires_at,
                record.created_at, created_by,
            ),
        )
        return record, key

    def list(self, organization_id: str) -> list[ApiKeyRecord]:
        """The organization's keys that are not revoked (expired ones included: their metadata says so)."""
        rows = self.store.query(
            "SELECT * FROM api_keys WHERE organization_id = ? AND revoked_at IS NULL ORDER BY created_at, id",
            (organization_id,),
        )
        return [self._record(row) for row in rows]

    def get(self, key_id: str) -> ApiKeyRecord | None:
        """A key that has not been revoked, of any organization (the policy decides who may see it)."""
        row = self.store.query_one("SELECT * FROM api_keys WHERE id = ? AND revoked_at IS NULL", (key_id,))
        return self._record(row) if row else None

    def revoke(self, key_id: str) -> None:
        self.store.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (self.clock.now(), key_id)
        )

    # -- authentication --------------------------------------------------

    def authenticate(self, presented: str) -> ApiKeyRecord:
        """The live record of a presented key, or 401 ``invalid_api_key``."""
        prefix = self.key_prefix()
        if not presented.startswith(prefix) or not _SECRET_SHAPE.fullmatch(presented[len(prefix):]):
            raise errors.invalid_api_key()
        row = self.store.query_one("SELECT * FROM api_keys WHERE digest = ?", (self.digest(presented),))
        if row is None:
            raise errors.invalid_api_key()
        record = self._record(row)
        if self.is_revoked(record) or self.is_expired(record, self.clock.now()):
            raise errors.invalid_api_key()
        return record

    def is_revoked(self, record: ApiKeyRecord) -> bool:
        return record.revoked_at is not None

    def is_expired(self, record: ApiKeyRecord, now: float) -> bool:
        """Expired from ``expiresAt`` on (the same reading as JWT ``exp``)."""
        return record.expires_at is not None and now >= record.expires_at

    # -- representation --------------------------------------------------

    def describe(self, record: ApiKeyRecord, view: View, key: str | None = None) -> dict[str, Any]:
        """The JSON of a key. Only ``view="created"`` carries ``key``, and only then is it known."""
        body: dict[str, Any] = {
            "id": record.id,
            "name": record.name,
            "prefix": record.prefix,
            "scopes": list(record.scopes),
            "rateLimit": record.rate_limit,
            "expiresAt": format_timestamp(record.expires_at) if record.expires_at is not None else None,
            "organizationId": record.organization_id,
            "createdAt": format_timestamp(record.created_at),
        }
        if view == "created" and key is not None:
            body["key"] = key
        return body

    @staticmethod
    def _record(row: Any) -> ApiKeyRecord:
        return ApiKeyRecord(
            id=row["id"],
            organization_id=row["organization_id"],
            name=row["name"],
            prefix=row["prefix"],
            scopes=tuple(json.loads(row["scopes"])),
            rate_limit=row["rate_limit"],
            expires_at=row["expires_at"],
            created_at=row["created_at"],
            revoked_at=row["revoked_at"],
        )
