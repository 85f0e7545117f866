"""One conformance run's state, and the keys it is kept under in pytest's stash.

Every harness module that needs the run state imports it from here, and this
module imports no other harness module: the state is the bottom of the import
graph (tests/harness/test_import_graph.py). The run's parts are built by the
modules that own them (catalogue, redactor, evidence log, limits, the opened
target); here each is typed by a Protocol of what the run's readers use of it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

import pytest

# xdist hands every worker the controller's redaction key under this workerinput name
RUN_KEY = "bsk_run_key"
# ... and the moment the controller's run started (epoch seconds), which a
# real-time budget counts from in every process alike (harness/clock.py)
RUN_STARTED = "bsk_run_started"
# the user property a check's record rides on, from a worker's report to the controller
CHECK_PROPERTY = "bsk_check"


@dataclass(frozen=True)
class RunOptions:
    """The plugin's command-line options (harness/options.py declares them), typed."""

    target: str | None
    target_profile: str | None
    report_dir: str
    har: str | None
    clock: str
    real_time_budget: float
    requirement: list[str]
    list_requirements: bool
    request_timeout: float
    run_timeout: float
    cleanup_timeout: float
    max_response_bytes: int
    unresponsive_after: int
    fuzz_examples: int
    model_examples: int
    model_steps: int
    reference_factory: str | None
    proxy: str | None
    ca_bundle: str | None
    client_cert: str | None
    client_key: str | None
    target_header: list[str]
    state_dir: str | None  # the recovery journal's directory (harness/journal.py)

    @classmethod
    def of(cls, namespace: object) -> RunOptions:
        """The plugin's options out of pytest's parsed `config.option`."""
        return cls(**{f.name: getattr(namespace, f.name) for f in fields(cls)})


class Requirement(Protocol):
    """What the plugin reads of a catalogue entry (harness/requirements.py)."""

    id: str
    level: str
    section: str
    title: str
    area: str
    verifiable: str
    withdrawn: bool


class Catalogue(Protocol):
    """The requirement catalogue (harness/requirements.py)."""

    requirements: Mapping[str, Requirement]
    digest: str
    checks: Mapping[str, tuple[str, ...]]  # the shipped checks by requirement (fixtures/check-index.json)

    def __contains__(self, rid: str) -> bool: ...
    def __getitem__(self, rid: str) -> Requirement: ...
    def active(self) -> list[Requirement]: ...
    def areas(self) -> list[str]: ...


class Redactor(Protocol):
    """The run's redactor (harness/evidence.py): one key, so one fingerprint a secret."""

    @property
    def run_key(self) -> bytes: ...
    def register(self, secret: object, kind: str) -> None: ...
    def known(self) -> dict[str, str]: ...
    def text(self, value: str) -> str: ...


class EvidenceLog(Protocol):
    """Where exchanges are recorded (harness/evidence.py), one collection per check."""

    redactor: Any

    def collecting(self) -> AbstractContextManager[list[Any]]: ...


class Limits(Protocol):
    """The run's deadlines and the target's health (harness/limits.py)."""

    def run_expired(self) -> str | None: ...
    def begin_cleanup(self, seconds: float) -> None: ...
    def abandon(self, reason: str) -> None: ...


class Profile(Protocol):
    """A target's profile (harness/profile.py), parsed once, at configure."""

    environment: str
    digest: str
    accounts: tuple[Any, ...]
    headers: tuple[tuple[str, str], ...]


class Connection(Protocol):
    """How a remote target is reached (harness/transport.py ConnectionOptions)."""

    headers: tuple[tuple[str, str], ...]

    def secrets(self) -> list[tuple[str, str]]: ...


class Clock(Protocol):
    name: str


class OpenedTarget(Protocol):
    """The target as opened for this process (harness/service.py TargetService)."""

    clock: Clock | None
    preflight_notes: list[str]
    fingerprint: dict[str, Any] | None

    def close(self) -> None: ...


@dataclass
class RunState:
    """Everything one pytest process knows about the conformance run."""

    catalogue: Catalogue
    options: RunOptions
    redactor: Redactor
    evidence: EvidenceLog
    is_controller: bool
    limits: Limits
    started: float = field(default_factory=time.time)
    checks: list[dict] = field(default_factory=list)
    # how time is moved; written once, by harness/service.open_target
    clock_mode: str | None = None
    target_label: str = "in-process reference server"
    environment: str = "test"
    profile: Profile | None = None  # a remote target's profile (the in-process server brings its own)
    connection: Connection | None = None  # how a remote target is reached
    preflight_notes: list[str] = field(default_factory=list)
    result: dict | None = None
    report_paths: dict[str, Path] = field(default_factory=dict)
    report_error: str | None = None
    service: OpenedTarget | None = None  # once the target is opened in this process
    target_fingerprint: dict | None = None  # TLS version and certificate of a remote target
    # why the run stopped before its end (harness/interruption.py), as conformance.json's
    # `interruption`: {cause, message, check, cleanup}; None for a run that was not cut short
    interruption: dict | None = None

    @property
    def profile_digest(self) -> str | None:
        return self.profile.digest if self.profile is not None else None


state_key = pytest.StashKey[RunState]()  # config.stash: the run
phases_key = pytest.StashKey[list[dict]]()  # item.stash: a check's phases so far
bucket_key = pytest.StashKey[list]()  # item.stash: the exchanges a check sent
# config.stash: what each requirement declares it disturbs (harness/disturbances.py)
declared_key = pytest.StashKey[dict[str, frozenset[str]]]()


def run_state(config: pytest.Config) -> RunState | None:
    """The run's state, or None when the plugin did not configure this process."""
    return config.stash.get(state_key, None)
