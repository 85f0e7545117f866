"""Target profiles (contract §7): the TOML an operator writes for a target."""

from __future__ import annotations

import base64
import binascii
import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bsk_conformance.harness.transport import header_problem

ENVIRONMENTS = ("test", "live")


class ProfileError(Exception):
    """The profile cannot be used; the message has one line per problem."""


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    totp_secret: str | None = None

    def __repr__(self) -> str:  # never let a password reach a traceback or a log
        return f"Account({self.email!r})"


@dataclass(frozen=True)
class Profile:
    environment: str
    accounts: tuple[Account, ...]
    source: str
    digest: str = ""
    # [headers]: what a gateway in front of the API wants on every request;
    # secrets, so never in a repr
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def key_prefix(self) -> str:
        return f"bsk_{self.environment}_"

    @property
    def other_key_prefix(self) -> str:
        return "bsk_live_" if self.environment == "test" else "bsk_test_"


def load_profile(path: Path) -> Profile:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the profile: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    profile = parse_profile(data, source=str(path))
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    return Profile(profile.environment, profile.accounts, profile.source, digest, profile.headers)


def parse_profile(data: dict, source: str = "profile") -> Profile:
    problems: list[str] = []
    unknown = set(data) - {"environment", "accounts", "headers"}
    for name in sorted(unknown):
        problems.append(f"{source}: unknown key '{name}' (expected environment, [[accounts]] and [headers])")
    environment = data.get("environment")
    if environment not in ENVIRONMENTS:
        problems.append(f'{source}: environment must be "test" or "live", got {environment!r}')
    raw_accounts = data.get("accounts")
    accounts: list[Account] = []
    if not isinstance(raw_accounts, list) or not raw_accounts:
        problems.append(f"{source}: no [[accounts]]: at least two, in two different organizations, are needed")
        raw_accounts = []
    elif len(raw_accounts) < 2:
        problems.append(
            f"{source}: only one [[accounts]] entry: at least two, in two different organizations, are needed"
        )
    for index, entry in enumerate(raw_accounts, start=1):
        where = f"{source}: accounts[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a table with email and password")
            continue
        for name in sorted(set(entry) - {"email", "password", "totpSecret"}):
            problems.append(f"{where}: unknown key '{name}'")
        email, password, secret = entry.get("email"), entry.get("password"), entry.get("totpSecret")
        if not isinstance(email, str) or "@" not in email:
            problems.append(f"{where}: 'email' must be an email address")
        if not isinstance(password, str) or not password:
            problems.append(f"{where}: 'password' must be a non-empty string")
        if secret is not None and not _is_base32(secret):
            problems.append(f"{where}: 'totpSecret' must be a base32 TOTP secret of at least 16 characters")
        if isinstance(email, str) and isinstance(password, str):
            accounts.append(Account(email, password, secret if isinstance(secret, str) else None))
    emails = [a.email.lower() for a in accounts]
    if len(set(emails)) != len(emails):
        problems.append(f"{source}: the same email appears twice in [[accounts]]")
    headers = _headers(data.get("headers", {}), source, problems)
    if problems:
        raise ProfileError("\n".join(problems))
    return Profile(environment, tuple(accounts), source, headers=headers)


def _headers(table: object, source: str, problems: list[str]) -> tuple[tuple[str, str], ...]:
    """`[headers]`: name = "value", as `--target-header "Name: value"` takes them."""
    if not isinstance(table, dict):
        problems.append(f"{source}: 'headers' must be a table of name = \"value\"")
        return ()
    headers = []
    for name, value in table.items():
        problem = header_problem(name, value, f"{source}: headers")
        if problem:
            problems.append(problem)
        else:
            headers.append((name, value.strip()))
    return tuple(headers)


def _is_base32(secret: object) -> bool:
    if not isinstance(secret, str) or len(secret.rstrip("=")) < 16:
        return False
    padded = secret.upper() + "=" * (-len(secret) % 8)
    try:
        base64.b32decode(padded)
    except (binascii.Error, ValueError):
        return False
    return True
