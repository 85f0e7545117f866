"""The BSK reference server: the authentication contract, in code.

    from bsk_conformance.reference_server import create_app, Settings
    from bsk_conformance.reference_server.clock import FrozenClock

    app = create_app(Settings(environment="test"), clock=FrozenClock(1_800_000_000))
"""

from .app import create_app
from .parts import Parts
from .settings import Settings

__all__ = ["Parts", "Settings", "create_app"]
