"""Deployments other than the target, for the checks whose rule only another
one can show (contract §6: clock control is off in a live deployment).

A check never builds a server: it asks for `live_deployment` and speaks HTTP
to whatever comes back.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bsk_conformance.harness.inprocess import AppFactory, resolve_factory
from bsk_conformance.harness.profile import Profile
from bsk_conformance.harness.target import Target
from bsk_conformance.harness.verdicts import NotVerified

__all__ = ["live_deployment", "serve_live"]


@contextmanager
def serve_live(factory: AppFactory, target: Target) -> Iterator[Target]:
    """The in-process server build (`factory`) deployed live, on loopback, with
    no accounts, given a clock that could move (so nothing but the environment
    keeps clock control off); its traffic is recorded with the target's."""
    from bsk_conformance.reference_server import Settings
    from bsk_conformance.reference_server.background import BackgroundServer
    from bsk_conformance.reference_server.clock import FrozenClock

    with tempfile.TemporaryDirectory(prefix="bsk-live-") as directory:
        accounts = Path(directory) / "accounts.toml"
        accounts.write_text("# no accounts: this deployment is only asked about /_test/clock\n")
        settings = Settings(environment="live", database=Path(directory) / "live.sqlite3", accounts_file=accounts)
        app = factory(settings, FrozenClock(float(int(time.time()))))
        profile = Profile("live", target.profile.accounts, "the in-process server build, deployed live")
        with BackgroundServer(app) as server:
            live = Target(server.url, profile, target.evidence, timeout=10.0, in_process=True)
            try:
                yield live
            finally:
                live.close()


@pytest.fixture
def live_deployment(request: pytest.FixtureRequest, target: Target) -> Iterator[Target]:
    """A live (`bsk_live_`) deployment of the target's build: in-process, the
    same --reference-factory started a second time, deployed live; remotely the
    target itself when its profile says `environment = "live"`; otherwise not
    verified (a remote test deployment has no live twin the harness can reach)."""
    if target.in_process:
        with serve_live(resolve_factory(request.config.getoption("reference_factory")), target) as live:
            yield live
    elif target.profile.environment == "live":
        yield target
    else:
        raise NotVerified('only a live deployment can show this: the profile says environment = "test"')
