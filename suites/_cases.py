"""How a suite declares its cases: one table, from case id to row.

A check that runs over several cases takes them from a dict declared beside
it (see docs/writing-checks.md, "Case tables"): the key is the case's id,
which becomes its name in the check's name (`test_x[<id>]`), so a report
reader finds the row in one step, as the catalogue is keyed by requirement
ID; a row with more than one field is a frozen dataclass.

Vectors that are data rather than code (attack vectors) live in
`fixtures/attack-vectors/<name>.json` and are read into the same kind of rows
by `vector_rows`, each member checked against the row's fields and types as
it loads, as the requirement catalogue is: a bad vector file stops the run
at collection with the file, the row and the field named.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


class VectorError(ValueError):
    """A vector file that does not hold the rows its check reads."""


def cases(argname: str, table: Mapping[str, Any]) -> Any:
    """`@cases("case", TABLE)`: the check runs once per row, named by its id."""
    return pytest.mark.parametrize(argname, list(table.values()), ids=list(table))


@cache
def vectors(name: str) -> dict[str, Any]:
    """`fixtures/attack-vectors/<name>.json`, as JSON."""
    text = resources.files("bsk_conformance.fixtures").joinpath("attack-vectors", f"{name}.json").read_text("utf-8")
    return json.loads(text)


def vector_rows(name: str, table: str, row: type[T]) -> tuple[T, ...]:
    """The list `table` of `<name>.json` as `row` instances. JSON members are
    camelCase, fields snake_case (`hmacSecret` -> `hmac_secret`); a member the
    row does not know, a missing field without default or a value of the
    wrong type is a VectorError."""
    where = f"fixtures/attack-vectors/{name}.json, {table!r}"
    entries = vectors(name).get(table)
    if not isinstance(entries, list):
        raise VectorError(f"{where}: expected a list of objects")
    hints = typing.get_type_hints(row)
    fields = {field.name: field for field in dataclasses.fields(row)}  # type: ignore[arg-type]
    rows = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise VectorError(f"{where}[{index}]: expected an object, got {type(entry).__name__}")
        values = {_snake(member): value for member, value in entry.items()}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise VectorError(f"{where}[{index}]: unknown member(s) {', '.join(unknown)}")
        for field_name, value in values.items():
            if not _fits(value, hints[field_name]):
                raise VectorError(f"{where}[{index}].{field_name}: {value!r} is not {hints[field_name]}")
        try:
            rows.append(row(**values))
        except (TypeError, ValueError) as exc:
            raise VectorError(f"{where}[{index}]: {exc}") from None
    return tuple(rows)


def _snake(member: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", member).lower()


def _fits(value: object, hint: Any) -> bool:
    if hint is Any or hint is object:
        return True
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return any(_fits(value, option) for option in typing.get_args(hint))
    if hint is type(None):
        return value is None
    origin = typing.get_origin(hint) or hint
    if origin is int and isinstance(value, bool):
        return False
    return isinstance(value, origin)
