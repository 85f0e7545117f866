"""Throughput of the one place secrets are removed, as known secrets grow.

    python bench/redaction.py
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bsk_conformance.harness.evidence import EvidenceLog, Redactor  # noqa: E402


def main() -> None:
    body = json.dumps({"data": [{"id": f"key_{i}", "name": "ci key", "prefix": "bsk_test_AbCdEfGh",
                                 "scopes": ["projects:read"], "createdAt": "2026-11-27T23:00:00Z"} for i in range(20)]})
    for known in (10, 100, 1000):
        redactor = Redactor()
        for _ in range(known):
            redactor.register(secrets.token_urlsafe(32), "token")
        log = EvidenceLog(redactor)
        rounds = 2000
        started = time.perf_counter()
        with log.collecting():
            for _ in range(rounds):
                log.record_exchange(method="GET", url="http://127.0.0.1/api-keys",
                                    request_headers={"authorization": "Bearer " + secrets.token_urlsafe(32)},
                                    request_body=b"", status=200, response_headers={"content-type": "application/json"},
                                    response_body=body.encode(), started=time.time(), duration=0.001)
        elapsed = time.perf_counter() - started
        print(f"{known:>5} known secrets: {rounds / elapsed:8.0f} exchanges/s ({1e6 * elapsed / rounds:.0f} µs each)")


if __name__ == "__main__":
    main()
