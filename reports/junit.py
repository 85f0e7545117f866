"""junit.xml: one testcase per check, for CI dashboards.

Mapping (docs/reports.md explains it for users):

* classname is the requirement ID (``BSK-TOK-002``), name the check's pytest
  nodeid; each testcase carries the requirement's level, section, title and
  status, and the check's exact outcome, as ``<properties>``.
* ``passed`` -> no child element.
* ``failed`` (a MUST broken) -> ``<failure type="requirement">``: a broken rule.
* ``error`` (the target or harness could not complete the check: timeout,
  reset, a harness bug) -> ``<error>``. Dashboards keep the two apart, and a
  failure must never be filed as an error, nor the reverse.
* a check that broke a SHOULD or MAY (its outcome ``failed``, its
  requirement's status ``warning``) -> ``<skipped type="warning">`` with a
  message starting ``warning:``. JUnit has no warning state. ``<failure>``
  would turn dashboards red and count the SHOULD alongside MUST failures,
  though the contract says a SHOULD never fails certification; a plain pass
  would hide it. Skipped is the one state that is neither, and every dashboard
  shows its message; the ``outcome`` property keeps the exact word. With
  ``--strict`` (``strict=True``) the run fails on it, and so it is a
  ``<failure type="requirement">`` here too.
* ``not_verified`` and ``skipped`` -> ``<skipped>`` with the reason.

A requirement with no check at all (left out, or not verifiable on this
target) still gets one testcase, named ``<ID> (no check ran)``, so that it
shows on the dashboard instead of vanishing.

The testsuite's ``<properties>`` carry the run's ``verdict`` (``partial`` or
``interrupted`` for a run that is not whole), ``verdictOfRun``,
``requirementsRun`` and ``requirementsTotal``, and for an interrupted run
``interruptionCause``, ``interruptionCheck``, ``interruptionMessage`` and
``cleanup``. The counts of tests, failures, errors and skips stay per check:
a check left out is a ``<skipped>`` with its message ("not run: ...").
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from . import model
from .transcripts import clip

# XML 1.0 cannot carry most control characters at all, escaped or not.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
MESSAGE_ATTR_CAP = 1024
TEXT_CAP = 16 * 1024


def _x(value: Any, limit: int = TEXT_CAP) -> str:
    """Text that XML 1.0 can hold: invalid characters spelled out, length capped."""
    text, note = clip("" if value is None else str(value), limit)
    text = _NOT_XML.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )
    return text + (f" [{note}]" if note else "")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _seconds(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "0"


def _properties(parent: ET.Element, items: list[tuple[str, Any]]) -> None:
    props = ET.SubElement(parent, "properties")
    for name, value in items:
        if value is not None and value != "":
            ET.SubElement(props, "property", name=name, value=_x(value, MESSAGE_ATTR_CAP))


def _exchanges_text(evidence: Any) -> str:
    """The request lines and statuses of a check's exchanges, for the failure body."""
    lines = []
    for ex in evidence or []:
        status = ex.get("status")
        lines.append(
            f"  {ex.get('method', '?')} {ex.get('url', '')} -> {status if status is not None else 'no response'}"
            + (f" ({ex['error']})" if ex.get("error") else "")
        )
    if len(lines) > 20:
        lines = lines[:10] + [f"  … {len(lines) - 20} more"] + lines[-10:]
    return "\n".join(lines)


def _outcome_element(case: ET.Element, outcome: str, req: Mapping[str, Any], message: str, body: str) -> None:
    reason = message or str(req.get("reason") or "")
    if outcome == "failed":
        level = req.get("level", "MUST")
        # a SHOULD or MAY here is a --strict run's failure: the message says so
        prefix = f"{level} not met (--strict): " if level != "MUST" else ""
        el = ET.SubElement(
            case,
            "failure",
            type="requirement",
            message=_x(prefix + (_first_line(reason) or "requirement failed"), MESSAGE_ATTR_CAP),
        )
        el.text = _x(body)
    elif outcome == "error":
        el = ET.SubElement(
            case, "error", type="error", message=_x(_first_line(reason) or "check did not complete", MESSAGE_ATTR_CAP)
        )
        el.text = _x(body)
    elif outcome == "warning":
        level = req.get("level", "SHOULD")
        el = ET.SubElement(
            case,
            "skipped",
            type="warning",
            message=_x(f"warning: {level} not met: {_first_line(reason)}", MESSAGE_ATTR_CAP),
        )
        el.text = _x(body)
    elif outcome in ("not_verified", "skipped"):
        words = "not verified" if outcome == "not_verified" else "skipped"
        ET.SubElement(
            case,
            "skipped",
            type=outcome,
            message=_x(f"{words}: {_first_line(reason) or 'no reason given'}", MESSAGE_ATTR_CAP),
        )
    # passed: no child element


def _shown_outcome(outcome: str, level: Any, *, strict: bool) -> str:
    """The state a check is filed under: a failed check of a SHOULD or MAY
    requirement is a warning, unless the run was --strict."""
    if outcome == "failed" and level != "MUST" and not strict:
        return "warning"
    if outcome == "warning" and strict:
        return "failed"
    return outcome


def render_junit(result: Mapping[str, Any], *, strict: bool = False) -> bytes:
    """junit.xml's bytes (UTF-8, with an XML declaration); ``strict``: the run's --strict."""
    suites = ET.Element("testsuites", name="bsk-conformance")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"BSK conformance: {_x(result.get('target'), 200)}",
        timestamp=_x(result.get("startedAt"), 100),
        time=_seconds(result.get("durationSeconds")),
    )
    completeness = model.completeness(result)
    interruption = model.interruption_of(result) or {}
    _properties(
        suite,
        [
            ("verdict", result.get("verdict")),
            ("verdictOfRun", completeness["verdictOfRun"]),
            ("requirementsRun", completeness["requirementsRun"]),
            ("requirementsTotal", completeness["requirementsTotal"]),
            ("interruptionCause", interruption.get("cause")),
            ("interruptionCheck", interruption.get("check")),
            ("interruptionMessage", interruption.get("message")),
            ("cleanup", interruption.get("cleanup")),
            ("target", result.get("target")),
            ("environment", result.get("environment")),
            ("clock", result.get("clock")),
            ("harnessVersion", result.get("harnessVersion")),
            ("contractVersion", result.get("contractVersion")),
            ("catalogueDigest", result.get("catalogueDigest")),
            ("gitCommit", result.get("gitCommit")),
        ],
    )
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for req in result.get("requirements") or []:
        checks = list(req.get("checks") or [])
        if not checks:
            checks = [
                {
                    "nodeid": f"{req.get('id')} (no check ran)",
                    "outcome": req.get("status"),
                    "message": req.get("reason"),
                    "durationSeconds": 0,
                    "evidence": [],
                }
            ]
        for check in checks:
            outcome = str(check.get("outcome"))
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_x(req.get("id"), 200),
                name=_x(check.get("nodeid"), 1000),
                time=_seconds(check.get("durationSeconds")),
            )
            _properties(
                case,
                [
                    ("requirement", req.get("id")),
                    ("level", req.get("level")),
                    ("section", req.get("section")),
                    ("title", req.get("title")),
                    ("requirementStatus", req.get("status")),
                    ("outcome", outcome),
                ],
            )
            message = str(check.get("message") or "")
            body_parts = [f"{req.get('id')} ({req.get('level')}, contract §{req.get('section')}): {req.get('title')}"]
            if req.get("sentence"):
                body_parts.append(f"Requirement: {req['sentence']}")
            if message:
                body_parts.append(message)
            exchanges = _exchanges_text(check.get("evidence"))
            if exchanges:
                body_parts.append("Exchanges:\n" + exchanges)
            shown = _shown_outcome(outcome, req.get("level"), strict=strict)
            _outcome_element(case, shown, req, message, "\n\n".join(body_parts))
            counts["tests"] += 1
            if shown == "failed":
                counts["failures"] += 1
            elif shown == "error":
                counts["errors"] += 1
            elif shown in ("warning", "not_verified", "skipped"):
                counts["skipped"] += 1
    for el in (suite, suites):
        for key, value in counts.items():
            el.set(key, str(value))
    suites.set("time", _seconds(result.get("durationSeconds")))
    ET.indent(suites)
    xml: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return xml + b"\n"
