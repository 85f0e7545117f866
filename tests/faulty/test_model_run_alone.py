"""The model-based run catches faults on its own, in both legs: four faulty
variants of different kinds run with only the model's checks (`-m
model_run`, the fixed checks switched off), each flagged on the requirement
it trips, nothing flagged outside its declared radius; and the honest server
flagged on nothing. A small version of the matrix's `--model-only` mode."""

from __future__ import annotations

import pytest

from tests.faulty import model_alone
from tests.faulty.judgement import Outcome
from tests.faulty.matrix import measure
from tests.faulty.registry import all_variants
from tests.faulty.runner import LEGS

# variant -> the tripped requirement the model must flag alone
CAUGHT_ALONE = {
    "scopes_ignored": "BSK-SCP-004",  # a key without projects:write creates a project
    "revoked_key_still_works": "BSK-KEY-013",  # a deleted key still authenticates
    "rotated_refresh_token_stays_valid": "BSK-REF-001",  # a refresh token works after rotation
    "other_organizations_project_readable": "BSK-SCP-008",  # bob reads alice's project
}


def _explain(outcome: Outcome) -> str:
    statuses = {rid: status for rid, status in outcome.run.statuses().items() if status != "skipped"}
    return f"{outcome.name} ({outcome.leg}): {statuses}\n{outcome.run.output[-3000:]}"


@pytest.mark.parametrize("leg", LEGS)
@pytest.mark.parametrize("name", sorted(CAUGHT_ALONE))
def test_the_model_run_alone_catches_the_variant(name, leg):
    variant = all_variants()[name]
    assert CAUGHT_ALONE[name] in variant.trips and CAUGHT_ALONE[name] in model_alone.model_judged()
    outcome = measure((variant, leg), model_only=True)
    assert not model_alone.problems(outcome), _explain(outcome)
    assert CAUGHT_ALONE[name] in model_alone.caught(outcome), _explain(outcome)
    assert outcome.run.exit_code == 1, _explain(outcome)
    # only the model's checks ran: every requirement that ran has a model check
    ran = {rid for rid, status in outcome.run.statuses().items() if status not in ("skipped", "not_run")}
    assert ran <= model_alone.model_judged(), _explain(outcome)


@pytest.mark.parametrize("leg", LEGS)
def test_the_model_run_alone_flags_nothing_on_the_honest_server(leg):
    outcome = measure((None, leg), model_only=True)
    assert not model_alone.problems(outcome) and not outcome.flagged, _explain(outcome)
    assert outcome.run.exit_code == 0, _explain(outcome)
