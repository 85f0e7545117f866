"""Redaction before truncation, at every cut: no piece of a secret survives any output.

Each kind of secret (password, access and refresh tokens, opaque refresh
token, API keys of both environments, TOTP secret, TOTP code, otpauth URI) is
placed in the target's answer so that each place that shortens text cuts it
`k` characters in, for every `k` across the secret: the quoted body of a
failure message (harness/quoting.py), the check record's message
(harness/results.py), the evidence body (harness/evidence.py), pytest's own
report of a check as the terminal shows it (a value its saferepr cut in the
middle), the Server header the terminal summary names. The check records made
that way are then written as JUnit, HTML, JSON, curl commands and the
terminal summary, and every output is scanned for any six characters in a row
of the secret (its public prefix `bsk_test_`/`bsk_live_`/`otpauth://` and
the `eyJ` that marks a JWT aside). The reports' own cuts, which see only
redacted text, are held to the shapes they can recognise (JWT, API key,
otpauth URI) at every cut as well.
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from _pytest._io.saferepr import saferepr  # the very function pytest's assertion messages cut values with

from bsk_conformance.harness.evidence import BODY_CAP, EvidenceLog, RecordingTransport, Redactor
from bsk_conformance.harness.expect import expect_status
from bsk_conformance.harness.preflight import SERVER_HEADER_CAP
from bsk_conformance.harness.quoting import _BODY_QUOTE
from bsk_conformance.harness.results import MESSAGE_CAP, fold_phase, phase_outcome, redact_report
from bsk_conformance.harness.verdicts import CheckFailed
from bsk_conformance.reports.curl import Placeholders, curl_command
from bsk_conformance.reports.html_report import _text, render_html
from bsk_conformance.reports.json_report import render_json
from bsk_conformance.reports.junit import MESSAGE_ATTR_CAP, _x, render_junit
from bsk_conformance.reports.terminal import _line, terminal_summary
from bsk_conformance.reports.transcripts import BODY_CAP_BYTES, Budget, clip, exchange_view

FRAGMENT = 6  # the longest run of a secret's characters any output may hold is FRAGMENT - 1
RUN_KEY = b"r" * 32  # fixed, so no fingerprint can happen to spell a fragment in one run and not the next


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(claims: dict[str, Any], signature_seed: int) -> str:
    header = _b64(json.dumps({"alg": "ES256", "typ": "JWT", "kid": "k-2026"}).encode())
    payload = _b64(json.dumps(claims).encode())
    return f"{header}.{payload}.{_b64(bytes((signature_seed * 37 + i * 101) % 256 for i in range(64)))}"


@dataclass(frozen=True)
class Secret:
    kind: str  # the redactor's kind, as a run registers it
    value: str
    field: str  # the JSON field a target's answer carries it in
    public: str = ""  # a leading part that is no secret (the key's environment prefix)
    shaped: bool = False  # recognisable by its shape alone, never registered

    structure: tuple[str, ...] = ()  # fixed words of its format (an otpauth URI's "?secret=")

    def leaks(self, output: str) -> list[str]:
        """Every run of FRAGMENT characters of the secret in `output`, its
        public prefix and the words of its format aside.

        The output is read as its runs of characters a secret can hold (the
        padding, "~", is none of them), each distinct run once: an HTML page
        of a thousand checks is scanned in a moment."""
        pieces = set()
        for start in range(len(self.value) - FRAGMENT + 1):
            piece = self.value[start : start + FRAGMENT]
            if start + FRAGMENT > len(self.public) and not any(piece in word for word in self.structure):
                pieces.add(piece)
        found = []
        for run in set(_RUNS.findall(output)):
            found += [run[i : i + FRAGMENT] for i in range(len(run) - FRAGMENT + 1) if run[i : i + FRAGMENT] in pieces]
        return sorted(set(found))


# what a secret's characters are not: whitespace, quotes, brackets, separators, the padding
_RUNS = re.compile(r"[^\s\"'<>~«»\\,;()\[\]{}|]{%d,}" % FRAGMENT)


SECRETS = [
    Secret("password", "Tr0ub4dor&3-Correct-Horse-Battery", "password"),
    Secret(
        "access-token",
        _jwt({"sub": "usr_alice", "org": "org_acme", "iat": 1800000000, "exp": 1800000900, "jti": "a1"}, 1),
        "accessToken",
        public="eyJ",
        shaped=True,
    ),
    Secret(
        "refresh-token",
        _jwt({"sub": "usr_alice", "typ": "refresh", "iat": 1800000000, "jti": "r7Qm"}, 2),
        "refreshToken",
        public="eyJ",
        shaped=True,
    ),
    Secret("refresh-token", "rt_9QmZ2vXk7LpW4sTn8YcB1dHf6GjR3aEu", "refreshToken"),
    Secret("api-key", "bsk_test_Q7mZ2vXk9LpW4sTn8YcB1dHf6GjR3aEuNw5K", "key", public="bsk_test_", shaped=True),
    Secret("api-key", "bsk_live_Hn4Rt8Wq2Zx6Vb1Mk5Pj9Lc3Fd7Gs0AyEu2T", "key", public="bsk_live_", shaped=True),
    Secret("totp-secret", "KRUGS4ZANFZSAYJAORSXG5BAONSWG4TFOQ", "secret"),
    Secret("totp-code", "739154", "code"),
    Secret(
        "totp-uri",
        "otpauth://totp/BSK:alice%40example.test?secret=KRUGS4ZANFZSAYJAORSXG5BA&issuer=BSK",
        "otpauthUri",
        public="otpauth://",
        shaped=True,
        structure=("otpauth://totp/", "?secret=", "&issuer="),
    ),
]
IDS = [f"{s.kind}-{s.value[:4]}" for s in SECRETS]


def _json_with_secret_at(secret: Secret, at: int) -> str:
    """A JSON answer whose text has the secret's first character at index `at` (at >= 40)."""
    head, middle = '{"note": "', f'", "{secret.field}": "'
    return head + "~" * (at - len(head) - len(middle)) + middle + secret.value + '", "more": "tail"}'


def _text_with_secret_at(secret: Secret, at: int) -> str:
    return "~" * (at - 1) + " " + secret.value + " tail"


def _client(redactor: Redactor, body: str, content_type: str, server: str = "bsk") -> tuple[httpx.Client, EvidenceLog]:
    log = EvidenceLog(redactor)

    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": content_type, "server": server}
        return httpx.Response(200, content=body.encode(), headers=headers)

    return httpx.Client(transport=RecordingTransport(httpx.MockTransport(answer), log), base_url="http://t"), log


def _fails(message: str) -> pytest.CallInfo:
    def check() -> None:
        raise CheckFailed(message)

    return pytest.CallInfo.from_call(check, when="call")


def _ways(secret: Secret) -> list[str]:
    """How the run meets the secret: in a JSON field it learns it from; in text,
    learned earlier (at login, say); and, for shapes, in text never learned."""
    return ["json-field", "known-text", *(["shape-only"] if secret.shaped else [])]


def _runs(secret: Secret, way: str) -> list[dict[str, Any]]:
    """One check record a cut position, each made the way a run makes it."""
    records = []
    for k in range(len(secret.value) + 1):
        redactor = Redactor(RUN_KEY)
        if way == "known-text":
            redactor.register(secret.value, secret.kind)
        make = _json_with_secret_at if way == "json-field" else _text_with_secret_at
        content_type = "application/json" if way == "json-field" else "text/plain"
        # the quote in a failure message (300 characters), with the answer's evidence
        # (16 KiB); the Server header the report's fingerprint names (200)
        server = "~" * (SERVER_HEADER_CAP - k - 1) + " " + secret.value
        client, log = _client(redactor, make(secret, _BODY_QUOTE - k), content_type, server=server)
        with log.collecting() as evidence, client:
            response = client.post("/auth/refresh")
        quoted = pytest.raises(CheckFailed, expect_status, response, 401).value
        records.append({"way": way, "k": k, "output": "quoted body", "text": str(quoted)})
        # the same text sent as a request body too, for the curl command that repeats it
        body = make(secret, BODY_CAP - k)
        big, big_log = _client(redactor, body, content_type)
        with big_log.collecting() as big_evidence, big:
            big.post("/big", content=body.encode(), headers={"content-type": content_type})
        kept = big_evidence[0]
        records.append({"way": way, "k": k, "output": "evidence body", "text": kept.requestBody + kept.responseBody})
        # the check record's message (4000 characters): the whole quote, and a long message of its own
        own = "expected HTTP 401; observed " + "~" * (MESSAGE_CAP - k - 29) + " " + secret.value + " more"
        phases = [phase_outcome(_fails(str(quoted)), redactor), phase_outcome(_fails(own), redactor)]
        record = fold_phase(f"suites/test_cuts.py::test_{way}_{k}", "BSK-REF-004", phases, evidence + big_evidence)
        records.append({"way": way, "k": k, "output": "check record", "text": json.dumps(record), "record": record})
        # pytest's report of a check, as the terminal shows it: saferepr cut the value in the middle
        if way != "shape-only":
            size = max(5, k)
            report = SimpleNamespace(longrepr=f"E   assert {saferepr(secret.value, maxsize=size)} == ''", sections=[])
            redact_report(report, redactor)
            records.append({"way": way, "k": k, "output": "pytest report", "text": str(report.longrepr)})
        records.append(
            {"way": way, "k": k, "output": "server header", "text": redactor.shorten(server, SERVER_HEADER_CAP)[0]}
        )
    return records


def _result(records: list[dict[str, Any]], server: str) -> dict[str, Any]:
    checks = [
        {key: r["record"][key] for key in ("nodeid", "outcome", "message", "durationSeconds", "evidence")}
        for r in records
        if "record" in r
    ]
    return {
        "schemaVersion": 1,
        "harnessVersion": "0.1.0",
        "contractVersion": "1.1",
        "target": "http://t",
        "environment": "test",
        "clock": "frozen",
        "startedAt": "2027-01-15T10:00:00Z",
        "durationSeconds": 1.0,
        "verdict": "non_conformant",
        "summary": {"failed": 1, "exchanges": sum(len(c["evidence"]) for c in checks)},
        "requirements": [
            {
                "id": "BSK-REF-004",
                "level": "MUST",
                "section": "4",
                "title": "Rotation does not extend the refresh lifetime",
                "status": "failed",
                "reason": checks[0]["message"].splitlines()[0],
                "sentence": "Refresh token: lifetime 604 800 s.",
                "verifiable": True,
                "applicable": True,
                "needs": [],
                "checks": checks,
            }
        ],
        "catalogueDigest": "0" * 64,
        "profileDigest": None,
        "gitCommit": None,
        "preflightNotes": [],
        "targetFingerprint": {"jwksSha256": "1" * 64, "serverHeader": server},
    }


@pytest.mark.parametrize("secret", SECRETS, ids=IDS)
def test_no_piece_of_a_secret_survives_any_output_at_any_cut(secret: Secret) -> None:
    for way in _ways(secret):
        records = _runs(secret, way)
        for record in records:
            leaked = secret.leaks(record["text"])
            assert not leaked, f"{way}: the {record['output']} cut {record['k']} characters in keeps {leaked[:3]}"
        server = next(r["text"] for r in reversed(records) if r["output"] == "server header")
        result = _result(records, server)
        outputs = {  # XML and HTML read as their text: "&amp;" hides nothing
            "JUnit": html.unescape(render_junit(result).decode()),
            "HTML": html.unescape(render_html(result).decode()),
            "JSON": render_json(result).decode(),
            "curl": "\n".join(curl_command(ex) for c in result["requirements"][0]["checks"] for ex in c["evidence"]),
            "terminal": "\n".join(terminal_summary(result, {})),
        }
        for name, text in outputs.items():
            assert "«" in text or "${BSK_" in text, f"{name}: the secrets were never in it (a vacuous scan)"
            leaked = secret.leaks(text)
            assert not leaked, f"{way}: {name} keeps {leaked[:3]}"


def test_the_scan_finds_what_the_old_order_kept() -> None:
    """The scan is not vacuous: cutting first and redacting after, as the
    quote in a failure message was made before, keeps a piece of the token."""
    token = SECRETS[1]
    redactor = Redactor(RUN_KEY)
    redactor.register(token.value, token.kind)
    body = _json_with_secret_at(token, _BODY_QUOTE - 40)
    old_way = redactor.text(body[:_BODY_QUOTE] + "…")
    assert token.leaks(old_way)
    assert not token.leaks(redactor.quote(body, _BODY_QUOTE))


SHAPED = [s for s in SECRETS if s.shaped]


@pytest.mark.parametrize("secret", SHAPED, ids=[f"{s.kind}-{s.value[:4]}" for s in SHAPED])
@pytest.mark.parametrize(
    "output, limit, shown",
    [
        ("clip", 300, lambda text, limit: clip(text, limit)[0]),
        ("JUnit attribute", MESSAGE_ATTR_CAP, lambda text, limit: _x(text, limit)),
        ("HTML text", 2048, lambda text, limit: _text(text, limit)),
        ("terminal line", 200, lambda text, limit: _line(text, limit)),
    ],
)
def test_the_reports_cut_a_secret_shape_at_any_point(secret: Secret, output: str, limit: int, shown) -> None:
    """What the reports cut was redacted by the harness; a shape that got
    through anyway (a report made elsewhere) is still not kept in part."""
    for k in range(len(secret.value) + 1):
        text = "~" * (limit - k - 1) + " " + secret.value + " tail"
        kept = shown(text, limit)
        assert not secret.leaks(kept), f"{output} cut {k} characters in keeps {secret.leaks(kept)[:3]}"


@pytest.mark.parametrize("secret", SHAPED, ids=[f"{s.kind}-{s.value[:4]}" for s in SHAPED])
def test_a_transcript_and_its_curl_command_cut_a_secret_shape_at_any_point(secret: Secret) -> None:
    for k in range(0, len(secret.value) + 1):
        body = "~" * (BODY_CAP_BYTES - k - 1) + " " + secret.value + " tail"
        exchange = {"method": "POST", "url": "http://t/x", "requestBody": body, "responseBody": body, "status": 200}
        view = exchange_view(exchange, Placeholders(), Budget(1 << 30))
        for part, text in (("request body", view.request_body.text), ("curl", view.curl)):
            assert not secret.leaks(text), f"the {part} cut {k} characters in keeps {secret.leaks(text)[:3]}"


def test_a_window_cut_at_its_start_is_mended_too() -> None:
    """Text shown from the middle (pytest's saferepr: head...tail): the tail of a known secret goes."""
    secret = SECRETS[3]
    redactor = Redactor(RUN_KEY)
    redactor.register(secret.value, secret.kind)
    mended = 0
    for size in range(5, len(secret.value) + 3):
        shown = redactor.shown(f"assert {saferepr(secret.value, maxsize=size)} == ''")
        assert not secret.leaks(shown), (size, shown)
        mended += shown.count("«refresh-token…»")
    # both sides of each cut from the first one holding EDGE_MIN characters on each
    assert mended >= 2 * (len(secret.value) - 2 * 4 - 5)
