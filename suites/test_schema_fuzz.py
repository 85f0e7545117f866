"""Contract §2, §3 — Schema fuzzing (schemathesis).

   "Malformed request bodies get 400 invalid_request, never 5xx."
   "Error body: {"error": "<code>", "message": "<text for humans>"}; extra fields allowed."
   §3's table: each endpoint's success status and shape, and its errors.

schemathesis generates valid and invalid inputs for every operation of the
contract from the target's `/openapi.json` (else the harness's own
description of the contract) and sends them, with a user's bearer token, an
all-scopes key, a key without scopes or no credentials, so the authenticated
paths are exercised and not only their 401s. `--fuzz-examples N` sets the
budget: up to N valid and N invalid inputs per operation, and N scenarios of
the stateful run. One stateless run is judged by three checks, one per
schemathesis check; the stateful run follows the document's links.

All traffic goes through the harness's recording client: the same evidence,
the same redaction. `suites/_fuzzer.py` says what the fuzzer never does to the
target's accounts (lock them, change their 2FA, end the harness's sessions).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from bsk_conformance.harness.api import fail, not_verified, requirement

from ._fuzz_document import document_for

# schemathesis is imported when a check fuzzes, not when the module is
# collected: a run that selects no fuzzing check (--requirement, -m AREA, the
# detection matrix's runs of other areas) does not pay for it.
if TYPE_CHECKING:
    from ._fuzz_stateless import StatelessRun

# the longest checks of the catalogue: under -n they start the run, on one worker,
# so the module-scoped fuzzing run is made once and the parallel phase does not
# end waiting on it (harness/phases.py)
pytestmark = pytest.mark.runs_first

STATEFUL_STEPS = 6  # steps per stateful scenario
SHOWN = 5  # failing exchanges quoted in a failure message


@pytest.fixture(scope="module")
def stateless_fuzz(request: pytest.FixtureRequest, target, two_factor_registry) -> Iterator[StatelessRun]:
    """One stateless run for the module's three checks. Its traffic is kept
    aside and attached to the evidence of each check that judges it."""
    from ._fuzz_stateless import StatelessRun, run_stateless
    from ._fuzzer import fuzzing

    examples = request.config.getoption("fuzz_examples")
    document, source = document_for(target)
    with target.evidence.collecting() as exchanges:
        with fuzzing(target, two_factor_registry, target.profile.accounts[0]) as fuzzer:
            judged, operations = run_stateless(fuzzer, document, examples)
    yield StatelessRun(source, examples, judged, list(exchanges), operations)


def _expect_every_answer_passes(run: StatelessRun, check: str, expected: str) -> None:
    failed = run.failures(check)
    if failed:
        quoted = " | ".join(judged.line(check) for judged in failed[:SHOWN])
        more = f" | and {len(failed) - SHOWN} more" if len(failed) > SHOWN else ""
        answers = "answer that does" if len(failed) == 1 else "answers that do"
        fail(expected, f"{len(failed)} {answers} not: {quoted}{more}", run.context())


@requirement("BSK-FUZZ-001")
def test_no_generated_request_gets_a_server_error(stateless_fuzz, target):
    stateless_fuzz.attach(target.evidence)
    _expect_every_answer_passes(stateless_fuzz, "not_a_server_error", "no 5xx answer (not_a_server_error)")


@requirement("BSK-FUZZ-002")
def test_every_answer_has_a_documented_status(stateless_fuzz, target):
    stateless_fuzz.attach(target.evidence)
    _expect_every_answer_passes(
        stateless_fuzz, "status_code_conformance", "every status documented for its operation (status_code_conformance)"
    )


@requirement("BSK-FUZZ-003")
def test_every_answer_matches_its_documented_schema(stateless_fuzz, target):
    stateless_fuzz.attach(target.evidence)
    _expect_every_answer_passes(
        stateless_fuzz,
        "response_schema_conformance",
        "every body matching its documented schema (response_schema_conformance)",
    )


@requirement("BSK-FUZZ-004")
def test_following_links_login_create_key_use_key(request: pytest.FixtureRequest, target, two_factor_registry):
    """The state machine logs in with a profile account's real credentials
    (a 2FA account would need a fresh TOTP step per login, so one without is
    used), creates keys with the tokens it got, and uses them. A step that
    starts a scenario without a token is sent with the fuzzer's own session."""
    account = next((a for a in target.profile.accounts if not a.totp_secret), None)
    if account is None:
        not_verified("every profile account has 2FA on: the state machine's logins need one without")
    from ._fuzz_stateful import run_stateful
    from ._fuzzer import fuzzing

    scenarios = request.config.getoption("fuzz_examples")
    document, source = document_for(target)
    with fuzzing(target, two_factor_registry, account) as fuzzer:
        run = run_stateful(fuzzer, document, scenarios, STATEFUL_STEPS)
    context = (
        f"stateful schema fuzzing with {source}: {sum(run.steps.values())} steps in up to {scenarios} "
        f"scenarios of up to {STATEFUL_STEPS} steps; {len(run.keys)} keys created, {run.linked_creations} "
        f"with a token from the run's own logins; {len(run.uses)} uses of them"
    )
    failed = [(check, judged) for judged in run.judged for check in judged.failures]
    if failed:
        quoted = " | ".join(f"[{check}] {judged.line(check)}" for check, judged in failed[:SHOWN])
        more = f" | and {len(failed) - SHOWN} more" if len(failed) > SHOWN else ""
        fail(
            "every answer conforming: no 5xx, a documented status, the documented schema",
            f"{len(failed)} that do not: {quoted}{more}",
            context,
        )
    # 429: the key authenticated and used its rateLimit (generated, possibly 1);
    # 401 for a key made with a generated expiresAt: it may have expired since.
    refused = [
        summary
        for status, summary, expiring in run.uses
        if status not in (200, 429) and not (status == 401 and expiring)
    ]
    if refused:
        fail(
            "GET /me with the X-API-Key of a key just created answers 200",
            f"{len(refused)} of {len(run.uses)} uses refused: {' | '.join(refused[:SHOWN])}",
            context,
        )
    if not run.linked_creations or not any(status == 200 for status, _, _ in run.uses):
        not_verified(
            f"the state machine did not follow both links, login → create key and create key → use key, "
            f"to a success ({context}); a larger --fuzz-examples gives it more scenarios"
        )
