"""The HAR 1.2 JSON Schema the tests validate against (har-1.2.schema.json,
written from the spec), and the spec's rules a schema cannot say."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).resolve().parent / "har-1.2.schema.json"


@cache
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def har_problems(har: Any) -> list[str]:
    """Every way ``har`` breaks HAR 1.2: the schema's findings, then the
    cross-references (a pageref names a page; page ids are unique) and the
    rule that an entry's time is the sum of its known timings."""
    problems = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator().iter_errors(har)]
    if problems:
        return problems
    log = har["log"]
    ids = [page["id"] for page in log.get("pages", [])]
    if len(ids) != len(set(ids)):
        problems.append("page ids are not unique")
    for index, entry in enumerate(log["entries"]):
        if "pageref" in entry and entry["pageref"] not in ids:
            problems.append(f"entries/{index}: pageref {entry['pageref']!r} names no page")
        timings = entry["timings"]
        known = sum(value for name, value in timings.items() if name not in ("ssl", "comment") and value != -1)
        if abs(known - entry["time"]) > 0.01:
            problems.append(f"entries/{index}: time {entry['time']} is not the sum of its timings ({known})")
    return problems
