"""bsk-conformance: the pytest plugin that certifies a BSK authentication API.

Suites import what they need from here: the outcome helpers (`expect`,
`not_verified`), the typed ends of a check that are not verdicts
(`PreconditionFailed`, `CleanupFailed`) and the types their fixtures hand them.
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
