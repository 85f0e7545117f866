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


def test_faulty_runs_leave_the_model_out_unless_asked_and_latitudes_keep_it():
    from dataclasses import replace

    from tests.faulty.registry import latitude_variants
    from tests.faulty.runner import markers_for

    scoped, full = all_variants()["scopes_ignored"], all_variants()["no_rate_limit"]
    assert markers_for(scoped) == "(scopes_and_orgs) and not model_run"
    assert markers_for(full) == "not model_run"
    assert markers_for(replace(scoped, model_run=True)) == "scopes_and_orgs"
    assert markers_for(replace(full, model_run=True)) is None
    assert markers_for(scoped, model_only=True) == "model_run"
    latitudes = latitude_variants()
    assert markers_for(latitudes["latitude_extra_fields"]) is None
    assert "model_run" not in markers_for(latitudes["latitude_ecdsa_twin_accepted"])


def test_every_requirement_the_model_predicts_has_a_check_or_is_listed_as_not_yet_judged():
    import re

    from bsk_conformance.suites.test_model_run import NOT_YET_JUDGED

    source = "".join((model_alone.ROOT / "suites" / name).read_text(encoding="utf-8")
                     for name in ("_model.py", "_model_machine.py", "_model_tour.py"))
    predicted = set(re.findall(r'"(BSK-[A-Z]+-\d{3})"', source))  # as code names them, not comments
    assert predicted - model_alone.model_judged() == set(NOT_YET_JUDGED)
    assert not set(NOT_YET_JUDGED) & model_alone.model_judged()
