"""From pytest's phases to check records, and from check records to the
schema-v1 result that every report is written from (with the facts it
records about the run: what was certified, the harness's commit), and the
redaction of pytest's own report of a check."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bsk_conformance.harness.evidence import Redactor
from bsk_conformance.harness.requirements import Catalogue
from bsk_conformance.harness.state import OpenedTarget
from bsk_conformance.harness.verdicts import (
    CleanupFailed,
    NotVerified,
    PreconditionFailed,
    requirement_status,
)
from bsk_conformance.reports.verdict_rules import completeness_of, counted_outcomes, overall_verdict, summary_of
from bsk_conformance.reports.vocabulary import section_key

MESSAGE_CAP = 4000
# when several phases of one check disagree, the worst decides
_SEVERITY = {"passed": 0, "skipped": 1, "not_verified": 2, "error": 3, "failed": 4}


def phase_outcome(call: pytest.CallInfo, redactor: Redactor) -> dict[str, Any]:
    """Classify one phase (setup, call, teardown) of a check."""
    outcome, message, supplementary = "passed", None, False
    excinfo = call.excinfo
    if excinfo is not None:
        error = excinfo.value
        if isinstance(error, NotVerified):
            outcome, message, supplementary = "not_verified", error.reason, error.supplementary
        elif isinstance(error, PreconditionFailed):
            # the target's fault, but not the rule under check: neither a verdict nor a harness problem
            outcome, message = "error", f"precondition failed: {error}"
        elif isinstance(error, CleanupFailed):
            judged = _verdict_behind(error) if call.when == "call" else None
            if judged is not None:
                # a cleanup in a `finally` raised over the check's own failure: keep the verdict
                outcome, message = "failed", f"{judged or 'assertion failed'}\n(also: cleanup failed: {error})"
            else:
                outcome, message = "error", f"cleanup failed: {error}"
        elif isinstance(error, pytest.skip.Exception):
            outcome, message = "not_verified", f"the check was skipped: {getattr(error, 'msg', error)}"
        elif isinstance(error, AssertionError):
            if call.when == "call":
                outcome, message = "failed", str(error) or "assertion failed"
            else:
                # a broken precondition or cleanup is not a verdict on the rule under check
                what = "precondition" if call.when == "setup" else "cleanup"
                outcome, message = "error", f"{what} failed: {error}"
        elif isinstance(error, httpx.TransportError):
            outcome, message = "error", f"target problem: {_transport_problem(error)}"
        else:
            outcome, message = "error", f"harness problem: {type(error).__name__}: {error}"
    if message is not None:
        message, was_cut = redactor.shorten(message, MESSAGE_CAP)  # redacted before it is cut
        if was_cut:
            message += " [… truncated]"
    phase = {"when": call.when, "outcome": outcome, "message": message, "duration": call.duration}
    if supplementary:
        phase["supplementary"] = True
    return phase


def _verdict_behind(error: BaseException) -> str | None:
    """The message of a failed assertion that `error` was raised while handling, if any."""
    context = error.__context__
    while context is not None:
        if isinstance(context, AssertionError):
            return str(context)
        context = context.__context__
    return None


def _transport_problem(error: httpx.TransportError) -> str:
    try:
        request = error.request
        where = f" on {request.method} {request.url.copy_with(query=None)}"
    except RuntimeError:
        where = ""
    return f"{type(error).__name__}{where}: {str(error).splitlines()[0] if str(error) else 'connection failed'}"


def fold_phase(nodeid: str, requirement: str, phases: list[dict], evidence: list) -> dict[str, Any]:
    """One check record from its phases; it crosses from xdist workers as plain data."""
    worst = max(phases, key=lambda p: _SEVERITY[p["outcome"]])
    messages = [p["message"] for p in phases if p["message"] and p is not worst]
    message = worst["message"]
    if worst["outcome"] == "failed" and messages:
        message = f"{message}\n(also: {'; '.join(messages)})"
    record = {
        "nodeid": nodeid,
        "requirement": requirement,
        "outcome": worst["outcome"],
        "message": message,
        "durationSeconds": round(sum(p["duration"] for p in phases), 6),
        "evidence": [exchange.as_dict() for exchange in evidence],
    }
    if worst.get("supplementary"):
        record["supplementary"] = True
    return record


#: why a check of the index that has no record did not run, when the run was not interrupted
LEFT_OUT_BY_SELECTION = "not run: left out by selection"


def build_result(
    catalogue: Catalogue,
    checks: list[dict],
    *,
    harness_version: str,
    contract_version: str,
    target: str,
    environment: str,
    clock: str,
    started: float,
    duration: float,
    profile_digest: str | None = None,
    git_commit: str | None = None,
    preflight_notes: list[str] | None = None,
    in_process: bool = True,
    target_fingerprint: dict[str, Any] | None = None,
    interruption: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The schema-v1 document (docs/architecture.md).

    A check of the catalogue's index that has no record did not run: it is
    listed with outcome `skipped` and why (left out by selection, or the run
    was interrupted), so its requirement is not run whole and never passes."""
    by_requirement: dict[str, list[dict]] = defaultdict(list)
    for check in checks:
        by_requirement[check["requirement"]].append(check)
    not_run = (
        f"not run: the run was {interruption['message']}" if interruption else LEFT_OUT_BY_SELECTION
    )
    requirements = []
    for requirement in sorted(catalogue.active(), key=lambda r: (section_key(r.section), r.id)):
        own = by_requirement.get(requirement.id, [])
        ran = {c["nodeid"] for c in own}
        missing = [name for name in catalogue.checks.get(requirement.id, ()) if name not in ran]
        own = sorted([*own, *(_not_run_record(name, requirement.id, not_run) for name in missing)],
                     key=lambda c: c["nodeid"])
        status = requirement_status(requirement.level, counted_outcomes(own))
        requirements.append(
            {
                "id": requirement.id,
                "level": requirement.level,
                "section": requirement.section,
                "title": requirement.title,
                "status": status,
                "reason": _reason(status, own),
                "sentence": requirement.sentence,
                "verifiable": requirement.verifiable,
                "applicable": requirement.applies_to(in_process=in_process, environment=environment),
                "needs": list(requirement.needs),
                "checks": [_check_entry(c) for c in own],
            }
        )
    result: dict[str, Any] = {
        "schemaVersion": 1,
        "harnessVersion": harness_version,
        "contractVersion": contract_version,
        "target": target,
        "environment": environment,
        "clock": clock,
        "startedAt": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "durationSeconds": round(duration, 3),
        "verdict": overall_verdict(requirements, interruption),
        # how much of the catalogue ran: a run that left requirements out is partial, never conformant
        "completeness": completeness_of(requirements),
        # requirement counts by status, and every exchange the checks (their fixtures included) sent
        "summary": {**summary_of(requirements), "exchanges": sum(c.get("exchanges", 0) for c in checks)},
        "requirements": requirements,
        "catalogueDigest": catalogue.digest,
        "profileDigest": profile_digest,
        "gitCommit": git_commit,
        "preflightNotes": preflight_notes or [],
    }
    if interruption:
        result["interruption"] = dict(interruption)
    if target_fingerprint:
        # what was certified, precisely: the JWKS, the Server header, TLS version and certificate
        result["targetFingerprint"] = dict(target_fingerprint)
    return result


def _check_entry(check: dict) -> dict[str, Any]:
    entry = {k: check[k] for k in ("nodeid", "outcome", "message", "durationSeconds", "evidence")}
    if check.get("supplementary"):
        entry["supplementary"] = True
    return entry


def _not_run_record(name: str, rid: str, message: str) -> dict[str, Any]:
    return {"nodeid": name, "requirement": rid, "outcome": "skipped", "message": message,
            "durationSeconds": 0.0, "evidence": []}


def _reason(status: str, checks: list[dict]) -> str | None:
    if status == "skipped":
        reasons = list(dict.fromkeys(c["message"] for c in checks if c["outcome"] == "skipped" and c["message"]))
        ran = sum(1 for c in checks if c["outcome"] != "skipped")
        why = reasons[0] if reasons else LEFT_OUT_BY_SELECTION
        return why if not ran else f"{why} ({ran} of its {len(checks)} checks ran)"
    wanted = {"failed": "failed", "warning": "failed", "error": "error", "not_verified": "not_verified"}.get(status)
    if wanted is None:
        return None
    reasons = list(dict.fromkeys(c["message"] or "" for c in checks if c["outcome"] == wanted))
    return "; ".join(r.splitlines()[0] for r in reasons if r) or None


def redact_report(report: pytest.TestReport, redactor: Redactor) -> None:
    """Nothing secret reaches the terminal or JUnit: pytest's assertion
    rewriting would otherwise print the locals (tokens and all), and its
    saferepr cuts a long value in the middle (`'eyJhbGci...c2ln'`)."""
    if report.longrepr is None:
        return
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        path, lineno, message = report.longrepr
        report.longrepr = (path, lineno, redactor.shown(str(message)))
    else:
        report.longrepr = redactor.shown(str(report.longrepr))
    report.sections = [(title, redactor.shown(content)) for title, content in report.sections]


def certified_fingerprint(service: OpenedTarget | None, tls: dict | None) -> dict | None:
    """What exactly was certified: the preflight's JWKS digest and Server
    header, with the TLS facts of the connection."""
    fingerprint = dict(service.fingerprint or {}) if service is not None else {}
    fingerprint.update(tls or {})
    return fingerprint or None


def git_commit() -> str | None:
    """The harness checkout's commit, when it runs from one."""
    head = Path(__file__).resolve().parent.parent / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            return (head.parent / ref[5:]).read_text().strip()[:12]
        return ref[:12]
    except OSError:
        return None
