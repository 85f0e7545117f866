"""Every check can fail, and none fails a correct server, in both legs:
in-process, and against the server served over HTTP as a remote target.

- each faulty variant is caught, by the right requirement, and by nothing
  outside its declared blast radius (remotely, a requirement no remote run
  can show comes out not verified, never passed);
- each latitude variant (contract §8) comes out conformant, warned on
  nothing but the SHOULDs it declares;
- the honest reference server gives no failure at all.

The judgement is the matrix's own (tests/faulty/judgement.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.faulty.judgement import Outcome
from tests.faulty.matrix import measure
from tests.faulty.registry import all_variants, latitude_variants
from tests.faulty.runner import LEGS

VARIANTS = all_variants()
LATITUDES = latitude_variants()


# With BSK_MATRIX_RESULTS=DIR each run is kept there, as `python -m tests.faulty.matrix
# --results DIR` keeps it, so `--results DIR --kept-only --write docs/detection-matrix.md`
# renders the matrix from this test's runs instead of running it all again.
KEPT = Path(os.environ["BSK_MATRIX_RESULTS"]) if os.environ.get("BSK_MATRIX_RESULTS") else None


def _outcome(subject, leg: str) -> Outcome:
    return measure((subject, leg), results=KEPT)


def _explain(outcome: Outcome) -> str:
    return f"{outcome.name} ({outcome.leg}): {'; '.join(outcome.problems())}\n{outcome.run.output[-3000:]}"


@pytest.mark.parametrize("leg", LEGS)
def test_the_reference_server_gives_no_failure(leg):
    outcome = _outcome(None, leg)
    assert outcome.ok, _explain(outcome)
    # nothing at all may be flagged or in error for the honest server, whatever its radius
    assert not outcome.flagged and not outcome.errored, _explain(outcome)


@pytest.mark.parametrize("leg", LEGS)
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_is_caught_by_the_requirements_it_breaks(name, leg):
    outcome = _outcome(VARIANTS[name], leg)
    assert outcome.ok, _explain(outcome)


@pytest.mark.parametrize("leg", LEGS)
@pytest.mark.parametrize("name", sorted(LATITUDES))
def test_latitude_variant_is_conformant(name, leg):
    outcome = _outcome(LATITUDES[name], leg)
    assert outcome.ok, _explain(outcome)
    if outcome.pending:
        pytest.xfail(f"{', '.join(sorted(outcome.pending))}: a SHOULD in contract v1.1 §8, still a MUST in the "
                     "catalogue; the run is non-conformant on it alone")
