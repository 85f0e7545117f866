"""bsk-conformance: the pytest plugin that certifies a BSK authentication API.

Suites import what they need from `bsk_conformance.harness.api`, the one
check-author API (docs/writing-checks.md); this package names the verdicts.
"""

from bsk_conformance import CONTRACT_VERSION, __version__
from bsk_conformance.harness.verdicts import CheckFailed, CleanupFailed, NotVerified, PreconditionFailed, not_verified

__all__ = [
    "CheckFailed",
    "CleanupFailed",
    "NotVerified",
    "PreconditionFailed",
    "not_verified",
    "__version__",
    "CONTRACT_VERSION",
]
