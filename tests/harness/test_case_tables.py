"""The suites' one case-table style (suites/_cases.py): a dict from case id to
row, and attack vectors read into frozen dataclass rows, checked as they load
so that a bad vector file stops the run at collection with a one-line reason."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bsk_conformance.suites import _cases
from bsk_conformance.suites._cases import VectorError, cases, vector_rows
from bsk_conformance.suites.test_jwt_attacks import KID_INJECTIONS, MISTYPED_CLAIMS, KidInjection
from bsk_conformance.suites.test_refresh import GARBAGE_TOKENS, MALFORMED_BODIES, RefreshBody


def test_the_shipped_vectors_load_into_their_rows():
    assert KID_INJECTIONS and all(isinstance(row, KidInjection) for row in KID_INJECTIONS)
    assert any(row.hmac_secret is not None for row in KID_INJECTIONS)  # camelCase hmacSecret read
    assert {row.claim for row in MISTYPED_CLAIMS} >= {"exp"}
    assert all(isinstance(row, RefreshBody) for row in MALFORMED_BODIES)
    assert GARBAGE_TOKENS and all(isinstance(row.token, str) for row in GARBAGE_TOKENS)


@dataclass(frozen=True)
class _Row:
    label: str
    count: int
    note: str | None = None


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        ("not a list", "expected a list of objects"),
        (["a string"], "[0]: expected an object, got str"),
        ([{"label": "x", "count": 1, "extraMember": 2}], "[0]: unknown member(s) extra_member"),
        ([{"label": "x", "count": "1"}], "[0].count: '1' is not"),
        ([{"label": "x", "count": True}], "[0].count: True is not"),
        ([{"label": "x", "count": 1}, {"label": "y"}], "[1]: "),
    ],
)
def test_a_bad_vector_is_refused_with_the_file_row_and_field_named(monkeypatch, entries, reason):
    monkeypatch.setattr(_cases, "vectors", lambda name: {"rows": entries})
    with pytest.raises(VectorError) as raised:
        vector_rows("made-up", "rows", _Row)
    assert str(raised.value).startswith("fixtures/attack-vectors/made-up.json, 'rows'")
    assert reason in str(raised.value)


def test_a_row_that_refuses_its_fields_is_a_vector_error(monkeypatch):
    monkeypatch.setattr(_cases, "vectors", lambda name: {"bodies": [{"label": "both", "json": {}, "raw": "{}"}]})
    with pytest.raises(VectorError, match=r"\[0\]: 'both': give exactly one of json and raw"):
        vector_rows("refresh", "bodies", RefreshBody)


def test_good_rows_load_with_defaults(monkeypatch):
    monkeypatch.setattr(_cases, "vectors", lambda name: {"rows": [{"label": "x", "count": 2}]})
    assert vector_rows("made-up", "rows", _Row) == (_Row("x", 2),)


def test_cases_names_each_case_by_its_key():
    mark = cases("row", {"first": _Row("a", 1), "second": _Row("b", 2)})
    assert mark.args == ("row", [_Row("a", 1), _Row("b", 2)])
    assert mark.kwargs["ids"] == ["first", "second"]


def test_the_extra_field_tables_load_and_refuse_an_unknown_placeholder(monkeypatch):
    from bsk_conformance.suites import _extra_fields
    from bsk_conformance.suites.test_property_authorization import KEY_OWNER, PROJECT_OWNER, TWO_FACTOR_STATE

    assert PROJECT_OWNER["organizationId of the other organization"].value == "$otherOrganization"
    assert KEY_OWNER and TWO_FACTOR_STATE
    filled = _extra_fields.fill({"id": "$otherOrganization", "kept": ["$x-not-a-placeholder"]},
                                {"$otherOrganization": "org_b"})
    assert filled == {"id": "org_b", "kept": ["$x-not-a-placeholder"]}
    monkeypatch.setattr(_cases, "vectors", lambda name: {"rows": [{"label": "x", "field": "f", "value": "$nope"}]})
    with pytest.raises(VectorError, match=r"extra-fields.json, 'rows'\[0\]: unknown placeholder\(s\) \$nope"):
        _extra_fields.extra_fields("rows")
