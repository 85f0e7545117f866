"""Contract §2 — Wire format: oversized bodies (with the latitude of §8).

   "Malformed request bodies get 400 invalid_request, never 5xx."
   §8: oversized bodies may be 400 or 413.

The harness sends 1 MiB, far beyond any body of this API. Where §8 leaves
the status open only the status is checked; the error shape of every answer
is BSK-WIRE-001's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bsk_conformance.harness.api import expect_status, requirement

from ._cases import cases
from ._wire import ONE_MIB, post_raw, unknown_email


@dataclass(frozen=True)
class Oversized:
    path: str
    bearer: bool  # sent with the reader's access token
    body: Callable[[], dict[str, Any]]  # made when sent: 1 MiB stays out of the collected table


OVERSIZED = {
    "api-keys": Oversized("/api-keys", True, lambda: {"name": "k" * ONE_MIB, "scopes": []}),
    "login": Oversized("/auth/login", False, lambda: {"email": unknown_email(), "password": "p" * ONE_MIB}),
    "projects": Oversized("/projects", True, lambda: {"name": "p" * ONE_MIB}),
}


@requirement("BSK-WIRE-009")
@cases("endpoint", OVERSIZED)
def test_an_oversized_body_is_400_or_413_never_5xx(endpoint: Oversized, target, request):
    session = request.getfixturevalue("reader") if endpoint.bearer else None
    context = f"POST {endpoint.path} with a 1 MiB JSON body"
    with target.evidence.note(context):
        response = post_raw(target, session, endpoint.path, json.dumps(endpoint.body()).encode())
    expect_status(response, 400, 413, context=context)
