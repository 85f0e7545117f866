"""Argon2id password hashing (argon2-cffi).

Two cost profiles:

* ``live``: argon2-cffi's default, RFC 9106's "low memory" recommendation
  (Argon2id, t=3, m=64 MiB, p=4).
* ``test``: Argon2id with t=1, m=1 MiB, p=1: about a millisecond per
  hash, against about a hundred for ``live``. The test environment runs
  in-process under the project's tests and the conformance harness, which
  log in thousands of times, and its seeded passwords are public fixtures
  anyway. Never use it for real secrets.

Hashes carry their parameters (PHC string), so a database written under one
profile still verifies under the other.
"""

from __future__ import annotations

import argon2
from argon2 import PasswordHasher, Type

from .settings import Environment

# Cheap, but still Argon2id with a full-size salt and tag (see above).
TEST_PROFILE = argon2.Parameters(
    type=Type.ID, version=19, salt_len=16, hash_len=32, time_cost=1, memory_cost=1024, parallelism=1
)


def hasher_for(environment: Environment) -> PasswordHasher:
    """The Argon2id hasher of an environment (see the module docstring)."""
    if environment == "test":
        return PasswordHasher.from_parameters(TEST_PROFILE)
    return PasswordHasher()


class Passwords:
    """Hash and check passwords, in roughly constant time for unknown accounts."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self._hasher = hasher
        # Verified against when the account does not exist, so an unknown
        # email costs the same Argon2 work as a wrong password.
        self._dummy = hasher.hash("no account has this password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with ``stored_hash=None`` does the work and says False."""
        try:
            return self._hasher.verify(stored_hash or self._dummy, password) and stored_hash is not None
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False
