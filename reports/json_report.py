"""conformance.json: serialisation of the schema-v1 result, and its validation.

The harness builds the result dict; this module checks it against the JSON
Schema shipped in ``reports/schema/`` and turns it into bytes. The JSON is the
record of the run: it is written as given, evidence and all, and every other
format (HTML, JUnit, diffs) can be rebuilt from it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

SCHEMA_FILE = "conformance-v1.schema.json"


class InvalidResult(ValueError):
    """A result dict (or conformance.json file) does not follow schema v1.

    ``problems`` lists every violation found, each as ``"<json path>: <what is wrong>"``;
    ``str()`` gives the first one plus a count, short enough for one terminal line.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"not a valid conformance result (schema v1): {problems[0]}{more}")


def schema_path() -> Path:
    """Path of the shipped JSON Schema (draft 2020-12) for conformance.json v1."""
    return Path(str(resources.files("bsk_conformance.reports") / "schema" / SCHEMA_FILE))


@functools.cache
def load_schema() -> dict[str, Any]:
    """The schema as a dict (read once per process)."""
    schema: dict[str, Any] = json.loads(schema_path().read_text(encoding="utf-8"))
    return schema


def _json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def problems(result: Any) -> list[str]:
    """Every way ``result`` breaks schema v1 (empty when it is valid).

    Beyond the schema, requirement IDs must be unique: the diff and the HTML
    anchors key on them.
    """
    # Imported here so that ``import reports`` stays cheap for the pytest plugin.
    import jsonschema

    validator_cls = jsonschema.validators.validator_for(load_schema())
    validator = validator_cls(load_schema())
    found = [
        f"{_json_path(error.absolute_path)}: {error.message}"
        for error in sorted(validator.iter_errors(result), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if not found and isinstance(result, Mapping):
        seen: set[str] = set()
        for index, req in enumerate(result["requirements"]):
            if req["id"] in seen:
                found.append(f"$.requirements[{index}].id: duplicate requirement ID {req['id']!r}")
            seen.add(req["id"])
    return found


def validate(result: Any) -> None:
    """Raise :class:`InvalidResult` unless ``result`` is a valid schema-v1 dict."""
    found = problems(result)
    if found:
        raise InvalidResult(found)


def render_json(result: Mapping[str, Any]) -> bytes:
    """conformance.json's bytes: UTF-8, indented, keys in the harness's order.

    Non-ASCII text is kept readable; a string the harness could not decode
    cleanly (a lone surrogate from a hostile body) falls back to ``\\u`` escapes
    for the whole file rather than failing the report.
    """
    try:
        return (json.dumps(result, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(result, indent=2, ensure_ascii=True) + "\n").encode("ascii")


def load(path: Path) -> dict[str, Any]:
    """Read and validate a conformance.json file.

    Raises :class:`OSError` when it cannot be read, :class:`ValueError` (with a
    one-line message) when it is not JSON, and :class:`InvalidResult` when it
    is JSON but not schema v1.
    """
    text = path.read_text(encoding="utf-8")
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if isinstance(data, dict) and data.get("schemaVersion") not in (1, None):
        raise InvalidResult([f"$.schemaVersion: unsupported version {data['schemaVersion']!r}; this tool reads 1"])
    validate(data)
    result: dict[str, Any] = data
    return result
