"""bsk-conformance: the pytest plugin that certifies a BSK authentication API.

Suites import what they need from here: the outcome helpers (`expect`,
`not_verified`) and the types their fixtures hand them.
"""

from harness.verdicts import CheckFailed, NotVerified, not_verified

__version__ = "0.1.0"
CONTRACT_VERSION = "1"

__all__ = ["CheckFailed", "NotVerified", "not_verified", "__version__", "CONTRACT_VERSION"]
