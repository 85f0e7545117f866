"""bsk-conformance: the pytest plugin that certifies a BSK authentication API.

Suites import what they need from here: the outcome helpers (`expect`,
`not_verified`) and the types their fixtures hand them.
"""

from bsk_conformance import CONTRACT_VERSION, __version__
from bsk_conformance.harness.verdicts import CheckFailed, NotVerified, not_verified

__all__ = ["CheckFailed", "NotVerified", "not_verified", "__version__", "CONTRACT_VERSION"]
