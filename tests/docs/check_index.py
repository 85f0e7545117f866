"""Generates fixtures/check-index.json: every shipped check, by requirement.

    python -m tests.docs.check_index --write fixtures/check-index.json
    python -m tests.docs.check_index --check fixtures/check-index.json   # exit 1 when stale

A run reads it to tell a whole run from a partial one: a requirement whose
indexed checks did not all run was not run whole, whatever pytest's
selection (`-k`, `-m`, `--requirement`, test paths, `--deselect`) or an
interruption left out. The checks are found as docs/requirements.md's are:
pytest collects the suites, nothing runs.
"""

from __future__ import annotations

import json
import sys

from bsk_conformance.harness.requirements import CHECK_INDEX_FORMAT as FORMAT
from tests.docs.requirements_doc import collect_checks, write_or_check


def render(checks: dict[str, list[str]]) -> str:
    document = {
        "format": FORMAT,
        "version": 1,
        "generatedBy": "python -m tests.docs.check_index --write fixtures/check-index.json",
        "checks": {rid: sorted(names) for rid, names in sorted(checks.items())},
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    return write_or_check("tests.docs.check_index", __doc__.splitlines()[0], lambda: render(collect_checks()), argv)


if __name__ == "__main__":
    sys.exit(main())
