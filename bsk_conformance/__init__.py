"""bsk-conformance: the conformance and security harness for the BSK authentication API.

One import name for the whole distribution, so that nothing generic
(`harness`, `reports`, `fixtures`, ...) lands in a user's environment. In the
repository the parts keep their top-level folders; the build maps each of
them under this package (`pyproject.toml`, `[tool.setuptools.package-dir]`).
"""

__version__ = "0.1.0"
# the version of the contract (docs/spec.md) this release certifies against
CONTRACT_VERSION = "1.1"

__all__ = ["CONTRACT_VERSION", "__version__"]
