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

import argparse
import json
import sys
from pathlib import Path

from bsk_conformance.harness.requirements import CHECK_INDEX_FORMAT as FORMAT
from tests.docs.requirements_doc import collect_checks


def render(checks: dict[str, list[str]]) -> str:
    document = {
        "format": FORMAT,
        "version": 1,
        "generatedBy": "python -m tests.docs.check_index --write fixtures/check-index.json",
        "checks": {rid: sorted(names) for rid, names in sorted(checks.items())},
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", type=Path, metavar="PATH")
    mode.add_argument("--check", type=Path, metavar="PATH")
    args = parser.parse_args(argv)
    text = render(collect_checks())
    if args.write:
        args.write.write_text(text, encoding="utf-8")
        return 0
    current = args.check.read_text(encoding="utf-8") if args.check.exists() else ""
    if current != text:
        print(f"{args.check} is stale: run python -m tests.docs.check_index --write {args.check}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
