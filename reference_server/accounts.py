"""Users and organizations, and the password check of ``POST /auth/login``."""

from __future__ import annotations

import importlib.resources
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from . import errors
from .passwords import Passwords
from .store import Store


@dataclass(frozen=True)
class Organization:
    id: str
    name: str


@dataclass(frozen=True)
class User:
    id: str
    email: str
    organization_id: str
    two_factor_enabled: bool


def load_accounts_file(path: str | Path | None) -> dict[str, Any]:
    """Parse an accounts TOML file; ``None`` reads the packaged ``fixtures/accounts.toml``."""
    if path is None:
        text = importlib.resources.files("bsk_conformance.fixtures").joinpath("accounts.toml").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    return tomllib.loads(text)


class Accounts:
    """Who may log in, and the check of their password.

    ``authenticate`` gives one answer, ``invalid_credentials``, for an unknown
    email and for a wrong password, after the same Argon2 work, so neither
    the body nor the timing tells an attacker which emails have accounts.
    """

    def __init__(self, store: Store, passwords: Passwords) -> None:
        self.store = store
        self.passwords = passwords

    def seed(self, data: Mapping[str, Any]) -> None:
        """Create the organizations and accounts of ``data`` that do not exist yet.

        Existing rows win, so a restart on the same database keeps each
        account's 2FA state.
        """
        with self.store.transaction() as conn:
            for org in data.get("organizations", []):
                conn.execute(
                    "INSERT OR IGNORE INTO organizations (id, name) VALUES (?, ?)", (org["id"], org["name"])
                )
            for account in data.get("accounts", []):
                exists = conn.execute("SELECT 1 FROM users WHERE id = ?", (account["userId"],)).fetchone()
                if exists:
                    continue
                conn.execute(
                    "INSERT INTO users (id, email, organization_id, password_hash) VALUES (?, ?, ?, ?)",
                    (
                        account["userId"],
                        account["email"].lower(),
                        account["organizationId"],
                        self.passwords.hash(account["password"]),
                    ),
                )

    def authenticate(self, email: str, password: str) -> User:
        """The user whose email and password these are, or ``invalid_credentials``."""
        row = self.store.query_one("SELECT id, password_hash FROM users WHERE email = ?", (email.lower(),))
        if row is None:
            self.unknown_account(email, password)
        if not self.passwords.verify(row["password_hash"], password):
            raise errors.invalid_credentials()
        user = self.get(row["id"])
        assert user is not None
        return user

    def unknown_account(self, email: str, password: str) -> NoReturn:
        """Answer a login for an email without an account exactly like a wrong password."""
        self.passwords.verify(None, password)
        raise errors.invalid_credentials()

    def get(self, user_id: str) -> User | None:
        row = self.store.query_one(
            "SELECT id, email, organization_id, totp_secret FROM users WHERE id = ?", (user_id,)
        )
        if row is None:
            return None
        return User(row["id"], row["email"], row["organization_id"], row["totp_secret"] is not None)

    def organization(self, organization_id: str) -> Organization | None:
        row = self.store.query_one("SELECT id, name FROM organizations WHERE id = ?", (organization_id,))
        return Organization(row["id"], row["name"]) if row else None
