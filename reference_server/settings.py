"""Deployment settings of the reference server."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Environment = Literal["test", "live"]

#: The environment's API-key prefix (contract §4).
KEY_PREFIXES: dict[str, str] = {"test": "bsk_test_", "live": "bsk_live_"}


@dataclass(frozen=True)
class Settings:
    """What differs between two deployments of the same server.

    The contract's own numbers (900 s, 604 800 s, 60 s windows) are not
    settings: they live with the part that enforces them, so a faulty
    variant changes them by overriding one method, not by configuration.
    """

    #: "test" issues ``bsk_test_`` keys and may expose ``/_test/clock``;
    #: "live" issues ``bsk_live_`` keys and never does.
    environment: Environment = "test"
    #: SQLite file that keeps keys, revocations, 2FA state, refresh-token
    #: families and the signing key across restarts; ``None`` = in memory.
    database: str | Path | None = None
    #: Accounts to seed (contract §7); ``None`` = the packaged
    #: ``fixtures/accounts.toml``.
    accounts_file: str | Path | None = None
    #: Larger request bodies are refused with 400 ``invalid_request``.
    max_body_bytes: int = 64 * 1024
    #: Login failures (wrong password, wrong 2FA code) per account within
    #: ``login_throttle_window`` seconds before login answers 429.
    login_throttle_threshold: int = 5
    login_throttle_window: float = 900.0
    #: Mount ``GET``/``POST /_test/clock``. ``None`` means "only in the test
    #: environment" (contract §6); a faulty variant may force ``True``.
    clock_routes: bool | None = None
    #: A path prefix every route is served under (``"/v1"``: contract §2, the
    #: base URL may carry one); ``""`` serves them at the root.
    base_path: str = ""

    def __post_init__(self) -> None:
        if self.environment not in KEY_PREFIXES:
            raise ValueError(f"environment must be 'test' or 'live', not {self.environment!r}")
        if self.max_body_bytes < 1:
            raise ValueError("max_body_bytes must be positive")
        if self.login_throttle_threshold < 1 or self.login_throttle_window <= 0:
            raise ValueError("the login throttle needs a positive threshold and window")
        if self.base_path and (not self.base_path.startswith("/") or self.base_path.endswith("/")):
            raise ValueError(f"base_path must start with / and not end with one, not {self.base_path!r}")

    @property
    def key_prefix(self) -> str:
        """``bsk_test_`` or ``bsk_live_``."""
        return KEY_PREFIXES[self.environment]

    @property
    def mounts_clock_routes(self) -> bool:
        """Whether ``/_test/clock`` is part of this deployment."""
        if self.clock_routes is None:
            return self.environment == "test"
        return self.clock_routes
