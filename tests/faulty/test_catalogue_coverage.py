"""Every requirement is shown to catch a fault, or says why it cannot be."""

from bsk_conformance.harness.requirements import load_catalogue
from tests.faulty.registry import all_variants, not_mutation_tested


def test_every_requirement_is_tripped_by_a_variant_or_listed_with_a_reason():
    catalogue = load_catalogue()
    tripped = {rid for variant in all_variants().values() for rid in variant.trips}
    uncovered = sorted(r.id for r in catalogue.active() if r.id not in tripped and r.id not in not_mutation_tested())
    assert not uncovered, f"no variant trips {uncovered}: add one, or list it with a reason"


def test_variants_name_only_known_requirements():
    catalogue = load_catalogue()
    for variant in all_variants().values():
        unknown = [rid for rid in (*variant.trips, *variant.blast) if rid not in catalogue]
        assert not unknown, f"variant {variant.name} names unknown requirements {unknown}"


def test_listed_exceptions_are_real_and_not_also_tripped():
    catalogue = load_catalogue()
    tripped = {rid for variant in all_variants().values() for rid in variant.trips}
    for rid, reason in not_mutation_tested().items():
        assert rid in catalogue and reason.strip(), rid
        assert rid not in tripped, f"{rid} is tripped by a variant: remove it from NOT_MUTATION_TESTED"
