"""conformance.html: contents, escaping of hostile evidence, caps and self-containment."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from typing import Any

import pytest
from synthetic_results import HOSTILE, check, envelope, exchange, requirement, without

from bsk_conformance import reports
from bsk_conformance.reports.html_report import highlight_redactions, render_html


def _html(result: dict[str, Any]) -> str:
    return render_html(result).decode("utf-8")


def _text(page: str) -> str:
    """The page's text roughly as a reader sees it: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_the_header_holds_the_verdict_and_the_run_details(result: dict[str, Any]) -> None:
    page = _html(without(result, "BSK-CLK-002"))  # the one requirement left out: without it the run is whole
    assert re.search(r'<h1 id="verdict" class="verdict" data-verdict="non-conformant">NON-CONFORMANT</h1>', page)
    assert 'class="banner verdict-non-conformant"' in page
    text = _text(page)
    for expected in (
        "http://127.0.0.1:8000",
        "control (target's /_test/clock)",
        "0.1.0",
        "8e4b0e8c1a2b",
        "sha256:5c1f0e9ab3d2",  # catalogue digest
        "sha256:9e8d7c6b5a41",  # profile hash
        "2026-11-27T23:40:00Z",
        "42.5 s",
        "1 MUST requirement of the contract failed.",
    ):
        assert expected in text, expected


@pytest.mark.parametrize(
    ("verdict", "label"),
    [("conformant", "CONFORMANT"), ("non-conformant", "NON-CONFORMANT"), ("incomplete", "INCOMPLETE")],
)
def test_each_verdict_has_its_banner(verdict: str, label: str) -> None:
    status = {"conformant": "passed", "non-conformant": "failed", "incomplete": "not_verified"}[verdict]
    result = envelope([requirement("BSK-TOK-002", status, reason="r" if status != "passed" else None)])
    assert result["verdict"] == verdict
    page = _html(result)
    assert f'data-verdict="{verdict}">{label}</h1>' in page
    assert f"banner verdict-{verdict}" in page


def test_missing_optional_fields_are_said_plainly(result: dict[str, Any]) -> None:
    result.update(gitCommit=None, profileDigest=None)
    del result["catalogueDigest"]
    text = _text(_html(result))
    assert "not known" in text and "no profile (bundled server)" in text and "not recorded" in text


def test_the_summary_counts_by_status_by_level_and_by_section(result: dict[str, Any]) -> None:
    page = _html(result)
    cards = dict(re.findall(r'<div class="card s-(\w+)[^"]*"><span class="n">(\d+)</span>', page))
    assert cards == {"failed": "1", "error": "1", "warning": "1", "not_verified": "2", "skipped": "1", "passed": "3"}
    levels = re.search(r'<table class="grid levels">.*?</table>', page, re.S).group(0)
    assert "MUST" in levels and "SHOULD" in levels and "MAY" in levels
    sections = re.search(r'<table class="grid sections">.*?</table>', page, re.S).group(0)
    assert re.findall(r'<span class="sec">§(\d+)</span>', sections) == ["2", "3", "4", "5", "6"]
    # proportions drawn as SVG rects, widths summing to 100 per section
    for bar in re.findall(r"<svg class=\"bar\".*?</svg>", sections, re.S):
        widths = [float(w) for w in re.findall(r'width="([\d.]+)"', bar)]
        assert abs(sum(widths) - 100) < 0.01


def test_failed_must_requirements_come_first(result: dict[str, Any]) -> None:
    page = _html(result)
    failed = re.search(r'<section id="failed-must".*?</section>', page, re.S).group(0)
    assert "BSK-TOK-002" in failed and "observed exp - iat = 3600" in failed
    assert page.index('id="failed-must"') < page.index('id="requirements"')
    matrix_ids = re.findall(r'<tr class="row s-\w+">\s*<td class="mono"><a href="#req-([\w-]+)">', page)
    assert matrix_ids[0] == "BSK-TOK-002"
    assert matrix_ids.index("BSK-TOK-002") < matrix_ids.index("BSK-TOK-003") < matrix_ids.index("BSK-TOK-001")
    detail_ids = re.findall(r'<details class="req s-\w+" id="req-([\w-]+)"', page)
    assert detail_ids == matrix_ids


def test_the_matrix_filter_works_without_javascript(result: dict[str, Any]) -> None:
    page = _html(result)
    # radio inputs precede the matrix and the detail list as siblings; CSS does the hiding
    for status in ("failed", "error", "warning", "not_verified", "skipped", "passed"):
        assert f'<input type="radio" name="filter" id="f-{status}" class="filter-input">' in page
        assert f"#f-{status}:checked ~ .matrix tr.row:not(.s-{status})" in page
    assert '<input type="radio" name="filter" id="f-all" class="filter-input" checked>' in page
    # buttons that need JavaScript are hidden until the script shows them
    assert all("hidden" in b for b in re.findall(r"<button[^>]*>", page))


def test_per_requirement_details_show_sentence_checks_and_evidence(result: dict[str, Any]) -> None:
    page = _html(result)
    start = page.index('<details class="req s-failed" id="req-BSK-TOK-002" open>')
    block = page[start : page.index('<details class="req ', start + 1)]
    assert "Claims: sub, org, iat, exp = iat + 900, jti, typ or tokenType = access." in block
    assert "suites/test_token_lifetimes.py::test_access_token_lifetime" in block
    assert "expected exp - iat = 900\nobserved exp - iat = 3600" in block
    assert '<details class="evidence" open>' in block
    assert "Evidence: 2 exchanges" in block
    assert "HTTP 200 OK" in block and "cache-control" in block
    # redaction markers are highlighted, never resolved
    assert '<span class="redacted" title="redacted by the harness: password">«password:3f9a1c2e»</span>' in block


def test_curl_commands_use_placeholders_for_redacted_secrets(result: dict[str, Any]) -> None:
    page = _text(_html(result))
    assert '--data-binary \'{"email": "alice@acme.test", "password": "\'"${BSK_PASSWORD}"\'"}\'' in page
    assert "-H 'authorization: Bearer '\"${BSK_ACCESS_TOKEN}\"" in page
    assert "export BSK_PASSWORD=… BSK_ACCESS_TOKEN=…" in page
    assert "«password:3f9a1c2e»" not in re.findall(r"curl -sS -i.*?(?=\n\n|$)", page, re.S)[0]


def test_not_verified_lists_reason_and_what_would_verify_it(result: dict[str, Any]) -> None:
    result["requirements"].append(
        requirement(
            "BSK-RS-009",
            "not_verified",
            title="Login throttle resets",
            reason="needs the in-process server",
            verifiable="in-process",
            checks=[],
        )
    )
    page = _html(result)
    section = _text(re.search(r'<section id="not-verified">.*?</section>', page, re.S).group(0))
    assert "BSK-RL-001" in section and "no clock control and --real-time-budget 0 s" in section
    assert "run against a target with /_test/clock or raise --real-time-budget" in section
    assert "add a second account in another organization to the profile" in section
    assert "only the bundled server run in-process can show this" in section
    assert "BSK-TOK-002" not in section


# -- hostile content ------------------------------------------------------------------------


def _hostile_result() -> dict[str, Any]:
    evil = exchange(
        "POST",
        '/projects?q="><script>alert(4)</script>',
        status=200,
        request_headers={"content-type": "application/json", "x-evil": '"><script>alert(3)</script>'},
        request_body='{"name": "' + HOSTILE + '"}',
        response_body="<html>" + HOSTILE + "</html>",
        note="</pre><script>alert(5)</script>",
    )
    req = requirement(
        "BSK-X-001",
        "failed",
        title=HOSTILE,
        reason=HOSTILE,
        checks=[check("suites/test_x.py::test_<script>", "failed", "expected 200, observed " + HOSTILE, [evil])],
    )
    return envelope([req], target='http://evil.test/"><script>alert(6)</script>', harnessVersion="<b>0.1</b>")


def test_target_content_is_escaped_everywhere() -> None:
    page = _html(_hostile_result())
    # exactly one <script> element: ours, at the end
    assert len(re.findall(r"<script", page, re.I)) == 1
    assert page.rstrip().endswith("</script>\n</body>\n</html>")
    assert "<img" not in page
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    for n in (3, 4, 5, 6):
        assert f"alert({n})" in page  # shown, as text
    assert "<b>0.1</b>" not in page


def test_invisible_and_control_characters_are_spelled_out() -> None:
    result = envelope(
        [
            requirement(
                "BSK-X-002",
                "failed",
                checks=[
                    check(
                        "t::x", "failed", "observed \u202eevil\x1b[31m", [exchange(response_body="a\u202eb\x00c\x1bd")]
                    )
                ],
            )
        ]
    )
    page = _html(result)
    assert "\u202e" not in page and "\x1b" not in page and "\x00" not in page
    assert "observed \\u202eevil\\x1b[31m" in page
    assert "a\\u202eb\\x00c\\x1bd" in page


def test_a_lone_surrogate_does_not_break_the_report(tmp_path) -> None:
    result = envelope(
        [
            requirement(
                "BSK-X-003",
                "failed",
                checks=[check("t::x", "failed", "bad \udcff byte", [exchange(response_body="\ud800")])],
            )
        ]
    )
    paths = reports.write_reports(result, tmp_path)
    assert "\\udcff" in paths["html"].read_text(encoding="utf-8")
    assert paths["json"].read_bytes().decode("ascii")  # fell back to \u escapes


def test_a_large_body_is_truncated_with_a_visible_note() -> None:
    body = "A" * 9000 + "THE-END"
    result = envelope(
        [requirement("BSK-X-004", "failed", checks=[check("t::x", "failed", "m", [exchange(response_body=body)])])]
    )
    page = _html(result)
    assert "A" * 8192 in page and "A" * 8193 not in page and "THE-END" not in page
    assert "truncated: showing the first 8 KiB of 9 KiB; the full body is in conformance.json" in page


def test_a_long_sequence_of_exchanges_shows_its_ends() -> None:
    evidence = [exchange("GET", f"/me?i={i}", status=200 if i < 59 else 429) for i in range(61)]
    result = envelope([requirement("BSK-RL-002", "failed", checks=[check("t::burst", "failed", "m", evidence)])])
    page = _html(result)
    assert "Evidence: 61 exchanges" in page
    assert "21 more exchanges of this sequence are not shown here" in page
    assert "/me?i=29<" in page and "/me?i=30<" not in page and "/me?i=51<" in page and "/me?i=60<" in page


def test_a_full_run_stays_under_5_mb_and_keeps_failed_evidence_first(large_result: dict[str, Any]) -> None:
    page = render_html(large_result)
    assert len(page) < 5_000_000
    text = page.decode("utf-8")
    assert text.count('<details class="req ') == 300
    # Failed checks (every fifth requirement, shown first) keep transcripts; the budget
    # runs out before the passed ones, whose exchanges keep only their request line.
    failed_part, passed_part = text.split('<details class="req s-passed"', 1)
    assert failed_part.count('<pre class="curl">') > 0
    assert passed_part.count('<pre class="curl">') == 0
    assert "Transcript left out to keep this report under 5 MB" in passed_part
    assert "truncated: showing the first 8 KiB" in failed_part


def test_the_size_cap_holds_even_when_the_rest_of_the_page_is_huge() -> None:
    # 1,000 failed requirements (several times a real catalogue) with 4 KiB messages and
    # long titles: the page is rendered again with tighter limits until it fits.
    reqs = [
        requirement(
            f"BSK-BIG-{i:04d}",
            "failed",
            title="t" * 400,
            checks=[check(f"t::{i}", "failed", "m" * 4000, [exchange(response_body="r" * 8000)] * 3)],
        )
        for i in range(1000)
    ]
    page = render_html(envelope(reqs))
    assert len(page) < 5_000_000
    text = page.decode("utf-8")
    assert text.count('<details class="req ') == 1000
    assert "shortened to keep this report under 5 MB" in text


# -- self-containment ------------------------------------------------------------------------


def test_the_page_loads_nothing_from_anywhere(result: dict[str, Any]) -> None:
    page = _html(result)
    assert not re.search(r"<(link|iframe|object|embed|img|base)\b", page, re.I)
    assert not re.search(r"\bsrc\s*=", page, re.I)
    assert "@import" not in page and "url(" not in page
    assert re.findall(r'href="([^"]*)"', page) and all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', page))
    assert "@font-face" not in page


def test_the_csp_allows_exactly_the_inline_style_and_script(result: dict[str, Any]) -> None:
    page = _html(result)
    csp = html.unescape(re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page).group(1))
    assert "default-src 'none'" in csp and "'unsafe-inline'" not in csp

    def digest(body: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"

    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    script = re.search(r"<script>(.*?)</script>", page, re.S).group(1)
    assert f"style-src {digest(style)}" in csp
    assert f"script-src {digest(script)}" in csp
    assert not re.search(r'\sstyle="', page)  # inline style attributes would be blocked by the CSP


def test_a_result_without_requirements_still_renders() -> None:
    page = _html(envelope([]))
    assert "CONFORMANT" in page and "No requirements in this result." in page


def test_redaction_highlighting_escapes_the_text_around_and_inside_markers() -> None:
    """Text with no marker takes the one-call path; a marker's kind and text are escaped too."""
    plain = highlight_redactions('<script>"x" & y</script>')
    assert str(plain) == "&lt;script&gt;&#34;x&#34; &amp; y&lt;/script&gt;"
    marked = str(highlight_redactions('a<b «<kind>:"fp&»» c'))
    assert marked == (
        "a&lt;b "
        '<span class="redacted" title="redacted by the harness: &lt;kind&gt;">«&lt;kind&gt;:&#34;fp&amp;»</span>'
        "» c"
    )
    assert "<script>" not in marked and str(highlight_redactions("")) == ""
