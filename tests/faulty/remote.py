"""Serves a variant over HTTP, as a remote target, for the matrix's remote leg.

The variant's own factory builds the app, in the test environment, with a
database file of its own and a clock that `/_test/clock` moves (the factory
gets a frozen one: a test clock that stays put between advances, contract §8;
the ticking-clock latitude variant brings its own). The reference server's
`BackgroundServer` serves it on a free loopback port. The harness then knows
nothing but the URL and the profile, exactly as against a vendor's target:
no clock object, no database, no log.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bsk_conformance.harness.inprocess import default_factory, reference_profile_path

AppFactory = Callable[[Any, Any], Any]
PROFILE = reference_profile_path()  # the bundled accounts, as a vendor would write them


def base_path(app: Any) -> str:
    """The path prefix the app serves the contract under ('' for none)."""
    from bsk_conformance.harness.inprocess import app_settings

    settings = app_settings(app)
    return getattr(settings, "base_path", "") if settings is not None else ""


@contextmanager
def served(factory: AppFactory | None) -> Iterator[str]:
    """Serve `factory`'s app (None: the honest server); yield its base URL."""
    from bsk_conformance.reference_server import Settings
    from bsk_conformance.reference_server.background import BackgroundServer
    from bsk_conformance.reference_server.clock import FrozenClock

    with tempfile.TemporaryDirectory(prefix="bsk-remote-") as directory:
        settings = Settings(environment="test", database=Path(directory) / "reference.sqlite3")
        app = (factory or default_factory)(settings, FrozenClock(float(int(time.time()))))
        with BackgroundServer(app, host="127.0.0.1", port=0) as server:
            yield server.url + base_path(app)

