"""How a suite declares its cases: rows of a frozen dataclass, in one table.

A check that runs over several cases takes them from a tuple of frozen
dataclass rows declared beside it (see docs/writing-checks.md, "Case
tables"). Each row carries an `id`, which becomes the case's name in the
check's name (`test_x[<id>]`), so a report reader finds the row in one step.
Vectors that are data rather than code (attack vectors) live in
`fixtures/attack-vectors/` and are read into the same kind of rows, their
fields checked as they load.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import pytest


class Row(Protocol):
    @property
    def id(self) -> str: ...


def cases(argname: str, rows: Sequence[Row]) -> Any:
    """`@cases("case", TABLE)`: the check runs once per row, named by the row's id."""
    ids = [row.id for row in rows]
    duplicated = sorted({name for name in ids if ids.count(name) > 1})
    if duplicated:
        raise ValueError(f"case ids must be unique within a table: {', '.join(duplicated)}")
    return pytest.mark.parametrize(argname, list(rows), ids=ids)
