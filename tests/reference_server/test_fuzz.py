"""Schemathesis against the app: no 5xx, no undocumented status, no response outside its schema.

Each operation gets up to ``EXAMPLES[mode]`` positive and negative (schema-
violating) examples (an operation without inputs has fewer distinct ones),
sent with a valid bearer token, an all-scopes API key, a key without scopes,
a key whose budget is spent, or no credentials, so the authenticated paths
(and their 403 and 429 answers) are exercised and not only their 401s.

The cases are generated and sent here, not through ``schemathesis.pytest``,
whose fixture loader does not work on pytest 9.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bsk_conformance.reference_server import Settings, create_app
from bsk_conformance.reference_server.clock import FrozenClock

from .conftest import ALICE, ALL_SCOPES, T0, TestClient

EXAMPLES = {schemathesis.GenerationMode.POSITIVE: 50, schemathesis.GenerationMode.NEGATIVE: 30}
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance,
          response_headers_conformance, content_type_conformance]
DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "contract-openapi.json").read_text())
OPERATIONS = [(method.upper(), path) for path, item in DOCUMENT["paths"].items()
              for method in item if method in {"get", "post", "delete"}]


class Target:
    """One app for the whole module, and credentials of every kind."""

    def __init__(self) -> None:
        self.app = create_app(Settings(), clock=FrozenClock(T0))
        with TestClient(self.app) as client:
            token = client.post("/auth/login", json=ALICE).json()["accessToken"]
            bearer = {"Authorization": f"Bearer {token}"}

            def key(scopes: list[str], limit: int) -> str:
                body = {"name": "fuzz", "scopes": scopes, "rateLimit": limit}
                created: str = client.post("/api-keys", headers=bearer, json=body).json()["key"]
                return created

            spent = key(ALL_SCOPES, 1)
            client.get("/me", headers={"X-API-Key": spent})  # the clock is frozen: spent for good
        self.credentials: dict[str, dict[str, str]] = {
            "bearer": bearer,
            "key": {"X-API-Key": key(ALL_SCOPES, 10_000)},
            "scopeless key": {"X-API-Key": key([], 10_000)},
            "spent key": {"X-API-Key": spent},
            "none": {},
        }
        self.schema = schemathesis.openapi.from_asgi("/openapi.json", self.app)
        self.sent: Counter[str] = Counter()
        self.statuses: dict[str, Counter[int]] = {}


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    target = Target()
    yield target
    total = sum(target.sent.values())
    print(f"\nschemathesis: {total} examples over {len(target.sent)} operations")
    for label, count in target.sent.items():
        print(f"  {count:4d}  {label}  {dict(target.statuses[label])}")


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_conforms(target: Target, method: str, path: str) -> None:
    operation = target.schema[path][method]
    secured = bool(operation.definition.raw.get("security"))
    label = f"{method} {path}"
    statuses = target.statuses.setdefault(label, Counter())

    credentials = st.sampled_from(sorted(target.credentials) if secured else ["none"])
    for mode, examples in EXAMPLES.items():
        @hypothesis_settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                             suppress_health_check=list(HealthCheck), print_blob=True)
        @given(case=operation.as_strategy(generation_mode=mode), credential=credentials)
        def run(case: Any, credential: str) -> None:
            response = case.call(headers=target.credentials[credential])
            target.sent[label] += 1
            statuses[response.status_code] += 1
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Unsatisfiable:
            # Nothing in the request can be made invalid (no parameters, no body).
            assert mode is schemathesis.GenerationMode.NEGATIVE

    assert statuses, label
    if secured:
        # The valid credentials got through: not every answer is a 401.
        assert set(statuses) - {401, 403, 429}, (label, statuses)
