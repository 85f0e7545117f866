"""A pytest plugin (`-p tests.docs.staged_catalogue`) that points the harness
at the catalogue directory named by BSK_STAGED_CATALOGUE: the shipped files
plus a requirement a document adds, so a worked example runs as written."""

from __future__ import annotations

import os
from pathlib import Path

from bsk_conformance.harness import requirements

_STAGED = os.environ.get("BSK_STAGED_CATALOGUE")
if _STAGED:
    requirements.default_directory = lambda: Path(_STAGED)  # read when the plugin loads the catalogue
