"""How schemathesis and hypothesis are set up for schema fuzzing, in one place.

schemathesis loads the document eagerly (`schemathesis.openapi.from_dict`;
its pytest loader does not work on pytest 9) with its own settings, never a
schemathesis.toml found on disk:
- The auth headers are the harness's, never generated, so a request never
  carries both a bearer token and a key (whose answer §8 leaves open).
- No pool of constants mined from application code: generated values of
  secret-named fields must not be ordinary text (see `_fuzzer.unshare_secrets`).
- Only the document's own links are followed, with valid inputs.

hypothesis runs generation only, derandomized and without its example
database, so a run is repeatable and leaves nothing on disk.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.config import SchemathesisConfig

_CONFIG = """
[analysis.constants]
enabled = false
[generation]
with-security-parameters = false
[phases.stateful.inference]
algorithms = []
[phases.stateful.generation]
mode = "positive"
"""


def load_schema(document: dict[str, Any]):
    return schemathesis.openapi.from_dict(document, config=SchemathesisConfig.from_str(_CONFIG))


def generation_settings(max_examples: int, **more: Any) -> hypothesis_settings:
    """hypothesis's settings for one fuzzing run of `max_examples` examples."""
    return hypothesis_settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        **more,
    )
