"""Runs the bundled reference server in-process, on a frozen clock.

The app is served by uvicorn on an ephemeral loopback port in a daemon thread,
so the harness reaches it over real HTTP exactly as it reaches a remote
target (schemathesis, concurrency and loopback listeners behave the same);
only time is moved differently: by calling the server's FrozenClock.
"""

from __future__ import annotations

import importlib
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from bsk_conformance.harness.profile import Profile, load_profile

AppFactory = Callable[[Any, Any], Any]  # (settings, clock) -> ASGI app
_SERVER_LOGGERS = ("bsk_conformance.reference_server", "uvicorn", "uvicorn.error", "uvicorn.access", "fastapi")


class FactoryError(Exception):
    """`--reference-factory` does not name a usable app factory."""


def default_factory(settings: Any, clock: Any) -> Any:
    from bsk_conformance.reference_server import create_app

    return create_app(settings, clock=clock)


def resolve_factory(spec: str | None) -> AppFactory:
    """`module:callable` -> the callable; None -> the honest reference server."""
    if not spec:
        return default_factory
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise FactoryError(f"--reference-factory {spec!r}: expected module:callable")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise FactoryError(f"--reference-factory {spec!r}: cannot import {module_name}: {exc}") from None
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise FactoryError(f"--reference-factory {spec!r}: {module_name} has no callable {attribute}")
    return factory


def app_parts(app: Any) -> Any:
    """The reference server's `Parts` behind `app`, looking through ASGI
    wrappers (`.app`) a factory may have put around it; None if there are none."""
    for _ in range(16):  # wrappers are few; never loop on a cycle
        parts = getattr(getattr(app, "state", None), "parts", None)
        if parts is not None:
            return parts
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


def app_settings(app: Any) -> Any:
    parts = app_parts(app)
    return parts.settings if parts is not None else None


def reference_profile_path() -> Path:
    return Path(str(resources.files("bsk_conformance.fixtures") / "reference-profile.toml"))


class _LineCollector(logging.Handler):
    """Keeps every formatted server log record, for the log-hygiene checks."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a malformed record must not take the server down
            self.lines.append(str(record.msg))


@dataclass
class InProcessServer:
    url: str
    clock: Any  # reference_server.clock.FrozenClock
    profile: Profile
    app: Any
    log: _LineCollector
    # a real SQLite file, so checks can read what the server stores at rest
    database: Path
    _server: Any
    _directory: tempfile.TemporaryDirectory

    def stop(self) -> None:
        self._server.stop()
        for name in _SERVER_LOGGERS:
            logging.getLogger(name).removeHandler(self.log)
        self._directory.cleanup()


def start(factory: AppFactory) -> InProcessServer:
    """Build the app with a frozen clock and serve it on loopback."""
    from bsk_conformance.reference_server import Settings
    from bsk_conformance.reference_server.background import BackgroundServer
    from bsk_conformance.reference_server.clock import FrozenClock

    clock = FrozenClock(float(int(time.time())))
    directory = tempfile.TemporaryDirectory(prefix="bsk-reference-")
    database = Path(directory.name) / "reference.sqlite3"
    app = factory(Settings(environment="test", database=database), clock)
    # the clock and path prefix the app was built with: a factory may bring a
    # ticking clock of its own, or serve under a prefix (contract §8 latitude)
    parts = app_parts(app)
    if parts is not None:
        clock = parts.clock
    prefix = parts.settings.base_path if parts is not None else ""
    collector = _LineCollector()
    for name in _SERVER_LOGGERS:
        logging.getLogger(name).addHandler(collector)
    server = BackgroundServer(app, host="127.0.0.1", port=0)
    server.start()
    profile = load_profile(reference_profile_path())
    return InProcessServer(server.url + prefix, clock, profile, app, collector, database, server, directory)
