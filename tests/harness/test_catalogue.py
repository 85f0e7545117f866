"""The requirement catalogue: valid as shipped, and strict about what it accepts."""

from pathlib import Path

import pytest

from bsk_conformance.harness.requirements import CatalogueError, load_catalogue

ENTRY = """
[[requirement]]
id = "BSK-XYZ-001"
level = "MUST"
section = "4"
title = "A title"
sentence = "The sentence it enforces."
"""


def test_the_shipped_catalogue_is_valid_and_ids_are_unique():
    catalogue = load_catalogue()
    assert catalogue.requirements and catalogue.digest.startswith("sha256:")
    for requirement in catalogue.requirements.values():
        assert requirement.level in ("MUST", "SHOULD", "MAY")
        assert requirement.sentence and requirement.title


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "area.toml").write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ENTRY.replace('"MUST"', '"MUSTN\'T"'), "level must be one of"),
        (ENTRY.replace("BSK-XYZ-001", "XYZ-1"), "ID must look like"),
        (ENTRY + ENTRY, "duplicate ID"),
        (ENTRY.replace('title = "A title"\n', ""), "'title' must be a non-empty string"),
        (ENTRY + 'colour = "red"\n', "unknown field(s) colour"),
        (ENTRY + 'needs = ["magic"]\n', "needs must be a list"),
        ("[[requirement]\n", "not valid TOML"),
    ],
)
def test_catalogue_problems_stop_the_run_with_a_clear_line(tmp_path, text, message):
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(write(tmp_path, text))
    assert message in str(caught.value)


def test_digest_changes_when_the_catalogue_changes(tmp_path):
    first = load_catalogue(write(tmp_path, ENTRY)).digest
    second = load_catalogue(write(tmp_path, ENTRY.replace("A title", "Another title"))).digest
    assert first != second
