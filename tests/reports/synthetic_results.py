"""Realistic schema-v1 results for the report tests, built without the harness.

``make_result()`` gives a small run with one requirement in every status and
evidence that looks like what harness/evidence.py records (redaction markers
included); ``make_large_result()`` gives a full-size hostile run for the size caps.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from functools import partial
from typing import Any

STARTED = "2026-11-27T23:40:00Z"

# The harness writes bodies with ensure_ascii=False, so markers stay «…».
dumps = partial(json.dumps, ensure_ascii=False)


def exchange(
    method: str = "POST",
    path: str = "/auth/login",
    *,
    status: int | None = 200,
    request_body: str = "",
    response_body: str = "",
    request_headers: dict[str, str] | None = None,
    response_headers: dict[str, str] | None = None,
    base: str = "http://127.0.0.1:8000",
    **extra: Any,
) -> dict[str, Any]:
    """One recorded exchange in the shape of docs/architecture.md's evidence format."""
    record: dict[str, Any] = {
        "method": method,
        "url": base + path,
        "requestHeaders": request_headers if request_headers is not None else {"content-type": "application/json"},
        "requestBody": request_body,
        "status": status,
        "responseHeaders": response_headers if response_headers is not None else {"content-type": "application/json"},
        "responseBody": response_body,
        "durationSeconds": 0.004,
        "startedAt": "2026-11-27T23:40:00.123Z",
        "truncated": False,
    }
    record.update(extra)
    return record


def login_exchange() -> dict[str, Any]:
    return exchange(
        request_body=dumps({"email": "alice@acme.test", "password": "«password:3f9a1c2e»"}),
        response_body=dumps(
            {
                "accessToken": "«access-token:7d1e04aa»",
                "refreshToken": "«refresh-token:a0b1c2d3»",
                "tokenType": "Bearer",
                "expiresIn": 900,
                "refreshExpiresIn": 604800,
            }
        ),
        response_headers={"content-type": "application/json", "cache-control": "no-store"},
    )


def me_exchange(status: int = 200, token: str = "«access-token:7d1e04aa»") -> dict[str, Any]:
    body = (
        dumps(
            {
                "type": "user",
                "userId": "usr_alice",
                "email": "alice@acme.test",
                "organizationId": "org_acme",
                "twoFactorEnabled": False,
            }
        )
        if status == 200
        else dumps({"error": "invalid_token", "message": "the access token has expired"})
    )
    headers = {"content-type": "application/json"}
    if status == 401:
        headers["www-authenticate"] = 'Bearer realm="bsk", error="invalid_token"'
    return exchange(
        "GET",
        "/me",
        status=status,
        request_headers={"authorization": f"Bearer {token}"},
        response_body=body,
        response_headers=headers,
    )


def check(
    nodeid: str, outcome: str = "passed", message: str | None = None, evidence: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "nodeid": nodeid,
        "outcome": outcome,
        "message": message,
        "durationSeconds": 0.031,
        "evidence": evidence or [],
    }


def requirement(
    req_id: str,
    status: str,
    *,
    level: str = "MUST",
    section: str = "4",
    title: str = "A requirement",
    reason: str | None = None,
    checks: list[dict[str, Any]] | None = None,
    sentence: str | None = None,
    needs: list[str] | None = None,
    verifiable: str = "any",
) -> dict[str, Any]:
    return {
        "id": req_id,
        "level": level,
        "section": section,
        "title": title,
        "status": status,
        "reason": reason,
        "checks": checks
        if checks is not None
        else [check(f"suites/test_x.py::test_{req_id.lower().replace('-', '_')}", status)],
        "sentence": sentence or f"The sentence of {req_id}.",
        "verifiable": verifiable,
        "needs": needs or [],
    }


def finish(result: dict[str, Any]) -> dict[str, Any]:
    """Fill in summary and verdict from the requirements, by the rules of docs/architecture.md."""
    counts = Counter(r["status"] for r in result["requirements"])
    result["summary"] = {
        "passed": counts["passed"],
        "failed": counts["failed"],
        "warning": counts["warning"],
        "notVerified": counts["not_verified"],
        "skipped": counts["skipped"],
        "error": counts["error"],
    }
    must = [r["status"] for r in result["requirements"] if r["level"] == "MUST"]
    if "failed" in must:
        verdict = "non-conformant"
    elif "not_verified" in must or "error" in must:
        verdict = "incomplete"
    else:
        verdict = "conformant"
    left_out = sorted(r["id"] for r in result["requirements"] if r["status"] == "skipped")
    result["completeness"] = {
        "requirementsRun": len(result["requirements"]) - len(left_out),
        "requirementsTotal": len(result["requirements"]),
        "leftOut": left_out,
        "verdictOfRun": verdict,
    }
    if result.get("interruption") is not None:
        result["verdict"] = "interrupted"
    elif left_out:
        result["verdict"] = "partial"
    else:
        result["verdict"] = verdict
    return result


def envelope(requirements: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "schemaVersion": 1,
        "harnessVersion": "0.1.0",
        "contractVersion": "1",
        "target": "http://127.0.0.1:8000",
        "environment": "test",
        "clock": "control",
        "startedAt": STARTED,
        "durationSeconds": 42.5,
        "verdict": "conformant",
        "summary": {},
        "requirements": requirements,
        "catalogueDigest": "sha256:5c1f0e9ab3d2",
        "profileDigest": "sha256:9e8d7c6b5a41",
        "gitCommit": "8e4b0e8c1a2b",
    }
    result.update(overrides)
    return finish(result)


def make_result(**overrides: Any) -> dict[str, Any]:
    """A small run with one requirement in every status, with evidence: a MUST
    failed, and one requirement was left out (skipped), so its verdict is
    ``partial`` (``completeness.verdictOfRun`` non-conformant)."""
    reqs = [
        requirement(
            "BSK-TOK-001",
            "passed",
            section="3",
            title="Login returns the token pair",
            checks=[check("suites/test_token_lifetimes.py::test_login_shape", "passed", evidence=[login_exchange()])],
        ),
        requirement(
            "BSK-TOK-002",
            "failed",
            title="Access token lifetime is 900 s",
            sentence="Claims: sub, org, iat, exp = iat + 900, jti, typ or tokenType = access.",
            reason="expected exp - iat = 900, observed 3600",
            checks=[
                check(
                    "suites/test_token_lifetimes.py::test_access_token_lifetime",
                    "failed",
                    "expected exp - iat = 900\nobserved exp - iat = 3600",
                    evidence=[login_exchange(), me_exchange(200)],
                )
            ],
        ),
        requirement(
            "BSK-TOK-003",
            "error",
            title="Access token refused at 900 s",
            reason="target problem: ReadTimeout on GET /me",
            checks=[
                check(
                    "suites/test_token_lifetimes.py::test_access_token_expires",
                    "error",
                    "target problem: ReadTimeout on GET http://127.0.0.1:8000/me",
                    evidence=[exchange("GET", "/me", status=None, response_body="", error="ReadTimeout: timed out")],
                )
            ],
        ),
        requirement(
            "BSK-TOK-010",
            "warning",
            level="SHOULD",
            title="Reuse of a rotated refresh token revokes the family",
            reason="the sibling refresh token still worked",
            checks=[
                check(
                    "suites/test_token_lifetimes.py::test_rotation_family",
                    "warning",
                    "expected 401 invalid_token, observed 200",
                )
            ],
        ),
        requirement(
            "BSK-RL-001",
            "not_verified",
            section="5",
            title="A key admits at most rateLimit requests per 60 s",
            reason="no clock control and --real-time-budget 0 s is shorter than the 60 s window",
            needs=["clock"],
            checks=[check("suites/test_rate_limits.py::test_window", "not_verified", "needs 60 s")],
        ),
        requirement(
            "BSK-ORG-001",
            "not_verified",
            section="3",
            title="Another organization's project answers 404",
            reason="the profile has one account",
            needs=["second-account"],
            checks=[],
        ),
        requirement(
            "BSK-CLK-002",
            "skipped",
            section="6",
            title="Clock control answers 404 in live",
            reason="not run: left out by selection",
            checks=[],
        ),
        requirement("BSK-WIRE-001", "passed", section="2", title="Error bodies carry error and message"),
        requirement("BSK-WIRE-004", "passed", level="MAY", section="2", title="openapi.json is served"),
    ]
    return envelope(reqs, **overrides)


def with_status(result: dict[str, Any], req_id: str, status: str, outcome: str | None = None) -> dict[str, Any]:
    """A copy of ``result`` with one requirement's status (and its checks' outcome) changed."""
    changed = copy.deepcopy(result)
    for req in changed["requirements"]:
        if req["id"] == req_id:
            req["status"] = status
            for c in req["checks"]:
                c["outcome"] = outcome or status
    return finish(changed)


def without(result: dict[str, Any], req_id: str) -> dict[str, Any]:
    changed = copy.deepcopy(result)
    changed["requirements"] = [r for r in changed["requirements"] if r["id"] != req_id]
    return finish(changed)


HOSTILE = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'


def make_large_result(
    requirements: int = 300, body_bytes: int = 64 * 1024, exchanges_per_check: int = 6
) -> dict[str, Any]:
    """A full-size run: many requirements, every check with large, hostile bodies.

    Every fifth requirement fails, so the test can see that failed checks keep
    their transcripts while passed ones give way to the size cap.
    """
    filler = (HOSTILE + "x" * 200 + "\n") * (body_bytes // (len(HOSTILE) + 201) + 1)
    reqs = []
    for i in range(requirements):
        status = "failed" if i % 5 == 0 else "passed"
        evidence = [
            exchange(
                "POST",
                f"/projects?n={i}&k={k}",
                status=500 if status == "failed" else 201,
                request_body=dumps({"name": filler[: body_bytes // 4]}),
                response_body=filler[:body_bytes],
            )
            for k in range(exchanges_per_check)
        ]
        reqs.append(
            requirement(
                f"BSK-GEN-{i:03d}",
                status,
                section=str(2 + i % 6),
                title=f"Generated requirement {i}",
                checks=[
                    check(
                        f"suites/test_generated.py::test_{i}",
                        status,
                        "expected 201, observed 500" if status == "failed" else None,
                        evidence,
                    )
                ],
            )
        )
    return envelope(reqs)


def make_partial_result(run: int = 2, total: int = 127) -> dict[str, Any]:
    """A run that selected ``run`` of ``total`` requirements (``-k``): everything
    that ran passed, the rest is ``skipped`` with the harness's message."""
    reqs = [
        requirement(f"BSK-SEL-{i:03d}", "passed", title=f"Selected requirement {i}", section="4") for i in range(run)
    ]
    reqs += [
        requirement(
            f"BSK-OUT-{i:03d}",
            "skipped",
            title=f"Left-out requirement {i}",
            reason="not run: left out by selection",
            checks=[check(f"suites/test_x.py::test_out_{i}", "skipped", "not run: left out by selection")],
        )
        for i in range(total - run)
    ]
    return envelope(reqs)


def make_interrupted_result(
    *,
    cause: str = "SIGTERM",
    check_in_flight: str | None = "suites/test_two_factor.py::test_enable_twice",
    message: str | None = None,
    cleanup: str = "complete",
) -> dict[str, Any]:
    """A run stopped by ``cause`` in ``check_in_flight``: one MUST passed, the
    check in flight ended in error naming the signal, one requirement not reached."""
    message = message or f"interrupted by {cause}" + (f" during {check_in_flight}" if check_in_flight else "")
    reqs = [
        requirement("BSK-TOK-001", "passed", section="3", title="Login returns the token pair"),
        requirement(
            "BSK-2FA-003",
            "error",
            title="Enabling 2FA twice answers 409",
            reason=f"interrupted by {cause}",
            checks=[check(check_in_flight or "suites/test_two_factor.py::t", "error", f"interrupted by {cause}")],
        ),
        requirement(
            "BSK-KEY-001",
            "skipped",
            title="API keys start with bsk_test_",
            reason=f"not run: the run was interrupted by {cause}",
            checks=[
                check("suites/test_api_keys.py::test_prefix", "skipped", f"not run: the run was interrupted by {cause}")
            ],
        ),
    ]
    return envelope(
        reqs, interruption={"cause": cause, "message": message, "check": check_in_flight, "cleanup": cleanup}
    )
