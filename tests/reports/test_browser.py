"""conformance.html in a real browser: Debian's headless Chromium, driven over the DevTools pipe.

Needs /usr/bin/chromium (`apt-get install -y chromium`); skipped with that
reason where it is absent. No test tool downloads a browser, and nothing
here sleeps: every wait is for a DevTools event, with a deadline.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from cdp import CHROMIUM, Browser
from synthetic_results import HOSTILE, check, exchange, make_result, requirement

from bsk_conformance import reports

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium) to run the browser tests",
)

VISIBLE_TEXT = """(function (id) {
  var el = document.getElementById(id);
  if (!el) { return null; }
  var box = el.getBoundingClientRect(), style = getComputedStyle(el);
  var shown = box.width > 0 && box.height > 0 && style.visibility === "visible" && style.display !== "none"
      && box.top < window.innerHeight;
  return shown ? el.innerText : null;
})"""

SHOWN = "Array.from(document.querySelectorAll('{selector}')).filter(e => getComputedStyle(e).display !== 'none').length"


def _hostile_report(tmp_path: Path) -> Path:
    result = make_result()
    result["requirements"].append(
        requirement(
            "BSK-X-001",
            "failed",
            title=HOSTILE,
            checks=[
                check(
                    "suites/test_x.py::test_x",
                    "failed",
                    "observed " + HOSTILE,
                    [exchange(response_body="<html>" + HOSTILE + "</html>", note=HOSTILE)],
                )
            ],
        )
    )
    from synthetic_results import finish

    return reports.write_reports(finish(result), tmp_path / "report")["html"]


def _verdict_word(page: Path) -> str:
    """The banner's word for the verdict the report beside the page records (the
    synthetic result leaves a requirement skipped, so it is PARTIAL, not NON-CONFORMANT)."""
    verdict = json.loads((page.parent / "conformance.json").read_text())["verdict"]
    assert verdict in ("partial", "non-conformant"), verdict
    return verdict.upper()


@pytest.fixture
def browser() -> Any:
    with Browser(width=1280, height=900) as b:
        yield b


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def test_the_verdict_banner_shows_and_the_console_stays_clean(browser: Browser, tmp_path: Path) -> None:
    page = _hostile_report(tmp_path)
    browser.open_page(page.as_uri())

    assert browser.evaluate(f"{VISIBLE_TEXT}('verdict')") == _verdict_word(page)
    banner_colour = browser.evaluate("getComputedStyle(document.querySelector('.banner')).backgroundImage")
    assert "gradient" in banner_colour

    shot = tmp_path / "conformance.png"
    width, height = _png_size(browser.screenshot(shot))
    assert width == 1280 and height > 500 and shot.stat().st_size > 10_000

    # The hostile body rendered as text: no injected element, no dialog, only our one script.
    assert browser.evaluate("document.scripts.length") == 1
    assert browser.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    assert browser.evaluate("document.body.innerText.indexOf('<script>alert(\"pwned\")</script>') >= 0") is True
    assert not [e for e in browser.events if e.get("method") == "Page.javascriptDialogOpening"]

    assert browser.console_errors() == []


def test_our_script_runs_under_the_csp(browser: Browser, tmp_path: Path) -> None:
    browser.open_page(_hostile_report(tmp_path).as_uri())
    # the script un-hides the expand/collapse buttons: it ran, and the CSP hash allowed it
    assert browser.evaluate("document.querySelector('button[data-action=expand]').hidden") is False
    # following a link to a collapsed requirement opens it
    opened = browser.send(
        "Runtime.evaluate",
        {
            "expression": """new Promise(function (resolve) {
                var target = document.getElementById('req-BSK-WIRE-001');
                var before = target.open;
                window.addEventListener('hashchange', function () { resolve([before, target.open]); }, {once: true});
                window.location.hash = 'req-BSK-WIRE-001';
            })""",
            "awaitPromise": True,
            "returnByValue": True,
        },
    )["result"]["value"]
    assert opened == [False, True]
    assert browser.console_errors() == []


def test_readable_and_filterable_with_javascript_off(browser: Browser, tmp_path: Path) -> None:
    page = _hostile_report(tmp_path)
    browser.open_page(page.as_uri(), javascript=False)
    assert browser.evaluate(f"{VISIBLE_TEXT}('verdict')") == _verdict_word(page)
    assert browser.evaluate("document.querySelector('button[data-action=expand]').hidden") is True

    count_rows = SHOWN.format(selector=".matrix tr.row")
    assert browser.evaluate(count_rows) == 10

    # a real mouse click on the "failed" filter label; CSS alone does the filtering
    label = browser.evaluate(
        "(function () { var el = document.querySelector('label[for=f-failed]'); el.scrollIntoView({block: 'center'});"
        " var b = el.getBoundingClientRect(); return [b.left + b.width / 2, b.top + b.height / 2]; })()"
    )
    for kind in ("mousePressed", "mouseReleased"):
        browser.send(
            "Input.dispatchMouseEvent", {"type": kind, "x": label[0], "y": label[1], "button": "left", "clickCount": 1}
        )
    assert browser.evaluate("document.getElementById('f-failed').checked") is True
    assert browser.evaluate(count_rows) == 2
    assert browser.evaluate(SHOWN.format(selector="details.req")) == 2
    assert browser.console_errors() == []


def test_a_full_size_report_loads_cleanly(browser: Browser, tmp_path: Path, large_result: dict[str, Any]) -> None:
    page = reports.write_reports(large_result, tmp_path / "large")["html"]
    assert page.stat().st_size < 5_000_000
    browser.open_page(page.as_uri())
    assert browser.evaluate(f"{VISIBLE_TEXT}('verdict')") == "NON-CONFORMANT"
    assert browser.evaluate("document.querySelectorAll('details.req').length") == 300
    assert browser.evaluate("document.scripts.length") == 1
    _png_size(browser.screenshot(tmp_path / "large.png"))
    assert browser.console_errors() == []
