"""Keeps the answers every operation of a kind can get in one place.

`fixtures/contract-openapi.json` is written by hand, but some answers are not
a property of one operation: any request with credentials can carry both a
bearer token and a key (400), or a key out of budget (429); any body can be
too large (413, §8). Each is one component of `components/responses`, and
`shared_answers` says which operations reference it; this script adds what
is missing, so no operation forgets one and nobody copies them by hand.

    python -m tests.openapi_shared_responses           # rewrite the document
    python -m tests.openapi_shared_responses --check   # exit 1 if it would change

The document stays the one source the server serves and the harness reads
(a load-time transform would make the served document differ from the file
the harness falls back on). An operation that lists one of these statuses
with another answer is an error, never overwritten silently.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DOCUMENT = Path(__file__).resolve().parents[1] / "fixtures" / "contract-openapi.json"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

Operation = dict[str, Any]


def shared_answers(document: dict[str, Any], operation: Operation) -> dict[str, str]:
    """Status -> component of `components/responses` that `operation` must reference.

    A secured operation reads both credential headers, whichever its security
    names: a key sent to a user-only operation is authenticated (and counted)
    before it is refused, so it too can get a 429.
    """
    secured = bool(operation.get("security", document.get("security")))
    body = "requestBody" in operation
    answers: dict[str, str] = {}
    if secured:
        # 400: both a bearer token and a key (§8 leaves the status open), or a malformed body.
        answers |= {"400": "BadRequestForKey", "401": "Unauthorized", "429": "RateLimited"}
    elif body:
        answers["400"] = "BadRequest"
    if body:
        answers["413"] = "PayloadTooLarge"  # §8: an oversized body may be 400 or 413
    return answers


def _status_order(entry: tuple[str, Any]) -> tuple[int, str]:
    return (0, entry[0]) if entry[0][:1].isdigit() else (1, entry[0])


def apply(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with every shared answer referenced (in place, and returned)."""
    components = document.get("components", {}).get("responses", {})
    for path, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for status, component in shared_answers(document, operation).items():
                if component not in components:
                    raise ValueError(f"components/responses has no {component}")
                reference = {"$ref": f"#/components/responses/{component}"}
                present = responses.setdefault(status, reference)
                if present != reference:
                    raise ValueError(f"{method.upper()} {path}: {status} is {present}, not {reference['$ref']}")
            operation["responses"] = dict(sorted(responses.items(), key=_status_order))
    return document


def render(document: dict[str, Any]) -> str:
    """The file's own layout: two-space indents, UTF-8 as written."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.openapi_shared_responses", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the document lacks a shared answer")
    args = parser.parse_args(argv)
    text = DOCUMENT.read_text("utf-8")
    try:
        wanted = render(apply(json.loads(text)))
    except ValueError as exc:
        print(f"{DOCUMENT.name}: {exc}", file=sys.stderr)
        return 2
    if wanted == text:
        return 0
    if args.check:
        print(f"{DOCUMENT.name} lacks shared answers: run python -m tests.openapi_shared_responses", file=sys.stderr)
        return 1
    DOCUMENT.write_text(wanted, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
