"""Extra request fields, as data: the rows of fixtures/attack-vectors/extra-fields.json.

Each row is one field that names a property the caller must not set (the
object's organization, owner, id, timestamps, the key's secret or prefix,
scopes, a type, 2FA state...), added to an otherwise valid body. A value that
is a string starting with `$` is a placeholder for what only the run knows
(the other account's ids, a key of the harness's own making, a moment long
past), filled in by `fill`. An unknown placeholder is a VectorError when the
table loads, as every other bad member is (suites/_cases.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._cases import VectorError, vector_rows

VECTORS = "extra-fields"

#: every placeholder a row may use, and what it stands for
PLACEHOLDERS = {
    "$otherOrganization": "the organizationId of the other account (bob's /me)",
    "$otherUser": "the userId of the other account (bob's /me)",
    "$otherEmail": "the email of the other account",
    "$chosenKey": "a key of the deployment's prefix and 40 random characters, made by the harness",
    "$chosenSecret": "40 random characters of [A-Za-z0-9], made by the harness",
    "$chosenPrefix": "the environment prefix and the first 8 characters of $chosenSecret",
    "$chosenId": "an id of the harness's choosing",
    "$longAgo": "2001-09-09T01:46:40Z, a moment long past",
    "$pastTime": "an RFC 3339 time one hour before the target's now",
    "$allScopes": "every scope of the contract, as a list",
}


@dataclass(frozen=True)
class ExtraField:
    label: str  # what the row sends, for a reader: "organizationId of the other organization"
    field: str  # the member added to the body
    value: Any  # its value, placeholders included

    def __post_init__(self) -> None:
        unknown = sorted(_placeholders(self.value) - set(PLACEHOLDERS))
        if unknown:
            raise ValueError(f"unknown placeholder(s) {', '.join(unknown)}")


def extra_fields(table: str) -> dict[str, ExtraField]:
    """The rows of one table, keyed by label (a case table, docs/writing-checks.md)."""
    rows = vector_rows(VECTORS, table, ExtraField)
    keyed = {row.label: row for row in rows}
    if len(keyed) != len(rows):
        raise VectorError(f"fixtures/attack-vectors/{VECTORS}.json, {table!r}: two rows share a label")
    return keyed


def fill(value: Any, known: Mapping[str, Any]) -> Any:
    """`value` with every placeholder replaced by what the run knows."""
    if isinstance(value, str) and value in PLACEHOLDERS:
        return known[value]
    if isinstance(value, dict):
        return {name: fill(inner, known) for name, inner in value.items()}
    if isinstance(value, list):
        return [fill(inner, known) for inner in value]
    return value


def with_extra(body: Mapping[str, Any], row: ExtraField, known: Mapping[str, Any]) -> dict[str, Any]:
    """A valid body with the row's field added (a field the body already names is never replaced)."""
    if row.field in body:
        raise VectorError(f"fixtures/attack-vectors/{VECTORS}.json: {row.label!r} would replace {row.field!r}")
    return {**body, row.field: fill(row.value, known)}


def _placeholders(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value} if value.startswith("$") else set()
    if isinstance(value, dict):
        return set().union(*(_placeholders(inner) for inner in value.values()))
    if isinstance(value, list):
        return set().union(*(_placeholders(inner) for inner in value))
    return set()
