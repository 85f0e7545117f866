"""conformance.har: the evidence of a result as HAR 1.2 (reports/har.py), on
synthetic results. Real runs are validated in tests/harness/test_har_of_real_runs.py."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from har_schema import har_problems
from synthetic_results import check, envelope, exchange, requirement

from bsk_conformance import reports
from bsk_conformance.reports.har import har_of, render_har


def _entries(result: dict[str, Any]) -> list[dict[str, Any]]:
    return har_of(result)["log"]["entries"]


def _one(evidence: dict[str, Any]) -> dict[str, Any]:
    checks = [check("suites/t.py::test_a", evidence=[evidence])]
    result = envelope([requirement("BSK-TOK-001", "passed", checks=checks)])
    (entry,) = _entries(result)
    return entry


def test_a_result_with_every_status_is_valid_har(result: dict[str, Any]) -> None:
    har = json.loads(render_har(result))
    assert har_problems(har) == []
    log = har["log"]
    assert log["version"] == "1.2"
    assert log["creator"] == {"name": "bsk-conformance", "version": result["harnessVersion"]}


def test_the_schema_and_the_rules_refuse_what_is_not_har(result: dict[str, Any]) -> None:
    """The validator can fail: each mutation breaks one rule of the spec."""
    har = har_of(result)
    breakages = {
        "no creator": lambda h: h["log"].pop("creator"),
        "a field the spec does not name": lambda h: h["log"]["entries"][0].update(extra=1),
        "status as text": lambda h: h["log"]["entries"][0]["response"].update(status="200"),
        "no timings": lambda h: h["log"]["entries"][0].pop("timings"),
        "headers as an object": lambda h: h["log"]["entries"][0]["request"].update(headers={"a": "b"}),
        "a date that is not ISO 8601": lambda h: h["log"]["pages"][0].update(startedDateTime="yesterday"),
        "postData with neither text nor params": lambda h: h["log"]["entries"][0]["request"].update(
            postData={"mimeType": "application/json"}
        ),
        "a pageref to no page": lambda h: h["log"]["entries"][0].update(pageref="nowhere"),
        "time that is not the sum of the timings": lambda h: h["log"]["entries"][0].update(time=99999),
    }
    for name, breaks in breakages.items():
        broken = copy.deepcopy(har)
        breaks(broken)
        assert har_problems(broken), name
    custom = copy.deepcopy(har)
    custom["log"]["entries"][0]["_anything"] = {"a": 1}  # custom fields start with "_"
    assert har_problems(custom) == []


def test_one_page_per_check_that_sent_something(result: dict[str, Any]) -> None:
    log = har_of(result)["log"]
    with_evidence = [(r, c) for r in result["requirements"] for c in r["checks"] if c["evidence"]]
    assert [page["id"] for page in log["pages"]] == [c["nodeid"] for _, c in with_evidence]
    titles = {page["id"]: page["title"] for page in log["pages"]}
    assert titles["suites/test_token_lifetimes.py::test_access_token_lifetime"] == (
        "BSK-TOK-002 MUST: Access token lifetime is 900 s (suites/test_token_lifetimes.py::test_access_token_lifetime)"
    )
    per_page = {page["id"]: [e for e in log["entries"] if e["pageref"] == page["id"]] for page in log["pages"]}
    assert {name: len(entries) for name, entries in per_page.items()} == {
        c["nodeid"]: len(c["evidence"]) for _, c in with_evidence
    }
    assert all(page["comment"] == f"outcome: {c['outcome']}" for page, (_, c) in zip(log["pages"], with_evidence))


def test_an_exchange_maps_field_by_field() -> None:
    entry = _one(
        exchange(
            "POST",
            "/api-keys?dryRun=1&api_key=«token:0a1b2c3d»",
            status=201,
            request_body='{"name": "ci", "scopes": []}',
            response_body='{"key": "«api-key:11223344»"}',
            request_headers={
                "content-type": "application/json",
                "authorization": "Bearer «bearer:99aa88bb»",
                "content-length": "28",
            },
            response_headers={"content-type": "application/json; charset=utf-8", "content-length": "31"},
            note="creates a key",
        )
    )
    request, response = entry["request"], entry["response"]
    assert entry["pageref"] == "suites/t.py::test_a"
    assert entry["startedDateTime"] == "2026-11-27T23:40:00.123Z"
    assert entry["time"] == 4.0 and entry["timings"]["wait"] == 4.0
    assert entry["comment"] == "creates a key"
    assert request["method"] == "POST" and request["httpVersion"] == "HTTP/1.1"
    assert request["url"] == "http://127.0.0.1:8000/api-keys?dryRun=1&api_key=«token:0a1b2c3d»"
    assert request["queryString"] == [
        {"name": "dryRun", "value": "1"},
        {"name": "api_key", "value": "«token:0a1b2c3d»"},
    ]
    assert {"name": "authorization", "value": "Bearer «bearer:99aa88bb»"} in request["headers"]
    assert request["postData"] == {"mimeType": "application/json", "text": '{"name": "ci", "scopes": []}'}
    assert request["bodySize"] == 28
    assert response["status"] == 201 and response["statusText"] == "Created"
    assert response["content"] == {
        "size": len('{"key": "«api-key:11223344»"}'.encode()),
        "mimeType": "application/json; charset=utf-8",
        "text": '{"key": "«api-key:11223344»"}',
    }
    assert response["bodySize"] == 31 and response["redirectURL"] == ""


def test_a_get_has_no_post_data_and_a_redirect_its_location() -> None:
    entry = _one(
        exchange("GET", "/me", status=302, response_headers={"location": "https://elsewhere.test/?token=«token:1»"})
    )
    assert "postData" not in entry["request"] and entry["request"]["bodySize"] == 0
    assert entry["response"]["redirectURL"] == "https://elsewhere.test/?token=«token:1»"
    assert entry["response"]["statusText"] == "Found"


def test_a_transport_error_is_status_0_with_the_error() -> None:
    entry = _one(exchange("GET", "/me", status=None, error="ReadTimeout: timed out"))
    assert entry["response"]["status"] == 0 and entry["response"]["statusText"] == ""
    assert entry["response"]["_error"] == "ReadTimeout: timed out"
    assert entry["response"]["bodySize"] == 0


def test_a_cut_body_says_so_on_the_side_that_was_cut() -> None:
    cut_request = _one(
        exchange(request_body="p" * 16384, request_headers={"content-length": "1048644"}, truncated=True)
    )
    assert "16 KiB" in cut_request["request"]["postData"]["comment"]
    assert "comment" not in cut_request["response"]["content"]
    cut_response = _one(
        exchange(response_body="x" * 16384, response_headers={"content-length": "70000"}, truncated=True)
    )
    assert "16 KiB" in cut_response["response"]["content"]["comment"]
    unknown = _one(exchange(request_body="{}", response_body="x" * 16384, response_headers={}, truncated=True))
    assert "comment" in unknown["request"]["postData"] and "comment" in unknown["response"]["content"]
    whole = _one(exchange(request_body="{}", response_body="{}"))
    assert "comment" not in whole["request"]["postData"] and "comment" not in whole["response"]["content"]


def test_entries_are_oldest_first() -> None:
    late = exchange(startedAt="2026-11-27T23:40:09.000Z")
    early = exchange(startedAt="2026-11-27T23:40:01.000Z")
    result = envelope(
        [
            requirement("BSK-TOK-001", "passed", checks=[check("suites/t.py::test_late", evidence=[late])]),
            requirement("BSK-TOK-002", "passed", checks=[check("suites/t.py::test_early", evidence=[early])]),
        ]
    )
    log = har_of(result)["log"]
    assert [e["pageref"] for e in log["entries"]] == ["suites/t.py::test_early", "suites/t.py::test_late"]
    assert [p["id"] for p in log["pages"]] == ["suites/t.py::test_early", "suites/t.py::test_late"]


def test_the_har_holds_the_reports_text_unchanged(result: dict[str, Any]) -> None:
    """Redacted exactly as the report is: every body, header and URL of the
    evidence is in the HAR as conformance.json holds it, and nothing else is."""
    entries = iter(_entries(result))
    evidence = sorted(
        (e for r in result["requirements"] for c in r["checks"] for e in c["evidence"]), key=lambda e: e["startedAt"]
    )
    for exchange_ in evidence:
        entry = next(entries)
        assert entry["request"]["url"] == exchange_["url"]
        assert entry["request"].get("postData", {}).get("text", "") == exchange_["requestBody"]
        assert entry["response"]["content"]["text"] == exchange_["responseBody"]
        assert {h["name"]: h["value"] for h in entry["request"]["headers"]} == exchange_["requestHeaders"]
        assert {h["name"]: h["value"] for h in entry["response"]["headers"]} == exchange_["responseHeaders"]


def test_write_reports_writes_the_har_only_when_asked(result: dict[str, Any], tmp_path: Path) -> None:
    plain = reports.write_reports(result, tmp_path / "plain")
    assert "har" not in plain and not (tmp_path / "plain" / reports.HAR_FILE_NAME).exists()
    target = tmp_path / "elsewhere" / "traffic.har"
    target.parent.mkdir()
    paths = reports.write_reports(result, tmp_path / "with", har=target)
    assert paths["har"] == target
    assert json.loads(target.read_text(encoding="utf-8")) == har_of(result)
    assert oct(target.stat().st_mode & 0o777) == "0o644"


def test_a_crash_while_rendering_the_har_writes_nothing(
    result: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(_: Any) -> bytes:
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(reports, "render_har", boom)
    with pytest.raises(RuntimeError):
        reports.write_reports(result, tmp_path, har=tmp_path / "conformance.har")
    assert list(tmp_path.iterdir()) == []


def test_a_result_without_evidence_is_an_empty_har() -> None:
    har = har_of(envelope([requirement("BSK-TOK-001", "passed")]))
    assert har["log"]["pages"] == [] and har["log"]["entries"] == []
    assert har_problems(har) == []
