"""The stateful run: schemathesis's state machine following the document's
links, login → create a key with the token → use the key, and what it saw."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from schemathesis.core.transport import Response

from bsk_conformance.harness.api import describe

from ._fuzz_document import operation_key, with_chain_links
from ._fuzz_judging import Judged, judge
from ._fuzz_settings import generation_settings, load_schema
from ._fuzzer import Fuzzer

STATEFUL_OPERATIONS = frozenset(
    {("POST", "/auth/login"), ("POST", "/api-keys"), ("GET", "/me"), ("GET", "/api-keys/{}")}
)
AUTH_HEADERS = ("authorization", "x-api-key")


@dataclass
class StatefulRun:
    """What the state machine did, and what the checks made of it."""

    judged: list[Judged] = field(default_factory=list)
    login_tokens: set[str] = field(default_factory=set)  # access tokens its logins (and refreshes) got
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # every key it created -> the creation answer
    linked_creations: int = 0  # keys created with a token from one of its logins
    revoked: set[str] = field(default_factory=set)  # key ids
    # each use of a created key: (status, summary, whether the key was made with an expiresAt)
    uses: list[tuple[int, str, bool]] = field(default_factory=list)
    steps: Counter = field(default_factory=Counter)


def run_stateful(fuzzer: Fuzzer, document: dict[str, Any], scenarios: int, steps: int) -> StatefulRun:
    linked = with_chain_links(document)
    schema = load_schema(linked)
    labels = []
    for path, item in linked.get("paths", {}).items():
        for method in item:
            if operation_key(method, path) in STATEFUL_OPERATIONS:
                labels.append(f"{method.upper()} {path}")
    schema = schema.include(name=labels)
    run = StatefulRun()
    account = fuzzer.account
    default = fuzzer.credentials["a user's bearer token"]

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def step(self, input):
            self._transition = input.transition.id if input.transition is not None else None
            return super().step(input)

        def call(self, case, **kwargs):
            method, path = operation_key(case.method, case.path)
            login = (method, path) == ("POST", "/auth/login")
            if login:
                # a real login, so the chain can go on and no failure is counted
                case.body = {"email": account.email, "password": account.password}
            sent = {name.lower() for name in (case.headers or {})}
            headers = {} if sent & set(AUTH_HEADERS) else default
            via = f"via {self._transition}" if self._transition else "first step"
            response = fuzzer.send(
                case, headers, f"schema fuzzing, stateful: {case.method} {case.path} ({via})", generated=not login
            )
            _follow_chain(run, case, response)
            run.steps[(case.method.upper(), case.path, response.status_code)] += 1
            self._last = response
            return Response.from_any(response)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            raw = self._last
            failures = judge(case, raw, recorder=self.recorder)
            via = self._transition or "first step"
            run.judged.append(
                Judged(
                    f"{case.method.upper()} {case.path}", f"stateful, {via}", raw.status_code, describe(raw), failures
                )
            )

    Machine.run(settings=generation_settings(scenarios, stateful_step_count=steps))
    return run


def _follow_chain(run: StatefulRun, case, response: httpx.Response) -> None:
    """Login → create key (with the login's token) → use the key, as it happened."""
    method, path = operation_key(case.method, case.path)
    sent = response.request.headers
    try:
        body = response.json()
    except ValueError:
        body = None
    if (method, path) in (("POST", "/auth/login"), ("POST", "/auth/refresh")) and response.status_code == 200:
        if isinstance(body, dict) and isinstance(body.get("accessToken"), str):
            run.login_tokens.add(body["accessToken"])
    elif (method, path) == ("POST", "/api-keys") and response.status_code == 201 and isinstance(body, dict):
        if isinstance(body.get("key"), str):
            run.keys[body["key"]] = body
            bearer = sent.get("authorization", "").partition(" ")[2].strip()
            run.linked_creations += bearer in run.login_tokens
    elif (method, path) == ("DELETE", "/api-keys/{}") and response.status_code == 204:
        run.revoked.add(str(next(iter((case.path_parameters or {}).values()), "")))
    elif (method, path) == ("GET", "/me"):
        key = sent.get("x-api-key")
        created = run.keys.get(key) if key else None
        if created is not None and str(created.get("id")) not in run.revoked:
            run.uses.append((response.status_code, describe(response), created.get("expiresAt") is not None))
