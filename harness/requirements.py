"""The requirement catalogue: every rule the harness enforces, as data.

The catalogue lives in `fixtures/requirements/<area>.toml`. IDs are stable:
a withdrawn requirement keeps its entry (``withdrawn = true``) so its ID is
never reused. The catalogue is validated once, at start, and a problem stops
the run with one line naming the file and the entry.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

# the catalogue's words (levels, verifiable, needs) are the reports' words too
from bsk_conformance.reports.vocabulary import LEVELS, NEEDS, VERIFIABLE

ID_PATTERN = re.compile(r"^BSK-[A-Z]+-\d{3}$")
CHECK_INDEX = "check-index.json"
CHECK_INDEX_FORMAT = "bsk-conformance check index"
_FIELDS = {"id", "level", "section", "title", "sentence", "verifiable", "needs", "withdrawn"}


class CatalogueError(Exception):
    """The catalogue files are not valid; the message is one line per problem."""


@dataclass(frozen=True)
class Requirement:
    id: str
    level: str
    section: str
    title: str
    sentence: str
    area: str
    verifiable: str = "any"
    needs: tuple[str, ...] = ()
    withdrawn: bool = False

    @property
    def is_must(self) -> bool:
        return self.level == "MUST"

    def applies_to(self, *, in_process: bool, environment: str) -> bool:
        """Whether a target of this kind could show this requirement at all.

        One that could not (the server's database, read against a remote
        target) is still reported not verified, with its reason, but does not
        make the run incomplete: no target of that kind could ever complete it."""
        if self.verifiable == "in-process":
            return in_process
        if self.verifiable == "live-or-in-process":
            return in_process or environment == "live"
        return True


@dataclass
class Catalogue:
    requirements: dict[str, Requirement] = field(default_factory=dict)
    digest: str = ""
    # every shipped check, by requirement (fixtures/check-index.json): what a
    # whole run runs, so a run can tell which requirements it did not run whole
    checks: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __contains__(self, rid: str) -> bool:
        return rid in self.requirements

    def __getitem__(self, rid: str) -> Requirement:
        return self.requirements[rid]

    def active(self) -> list[Requirement]:
        return [r for r in self.requirements.values() if not r.withdrawn]

    def areas(self) -> list[str]:
        return sorted({r.area for r in self.requirements.values()})


def default_directory() -> Path:
    return Path(str(resources.files("bsk_conformance.fixtures") / "requirements"))


def check_index_path() -> Path:
    return Path(str(resources.files("bsk_conformance.fixtures") / CHECK_INDEX))


def load_check_index(path: Path | None = None) -> dict[str, tuple[str, ...]]:
    """The shipped checks by requirement ID; a broken index is a CatalogueError
    naming the file (it is generated: `python -m tests.docs.check_index`)."""
    path = path or check_index_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CatalogueError(f"{path.name}: not a readable check index: {exc}") from None
    checks = data.get("checks") if isinstance(data, dict) else None
    if data.get("format") != CHECK_INDEX_FORMAT or not isinstance(checks, dict) or not all(
        isinstance(names, list) and all(isinstance(n, str) for n in names) for names in checks.values()
    ):
        raise CatalogueError(f"{path.name}: not a check index (regenerate it: python -m tests.docs.check_index)")
    return {rid: tuple(names) for rid, names in checks.items()}


def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Read and validate every `*.toml` in the catalogue directory."""
    directory = directory or default_directory()
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise CatalogueError(f"{directory}: no requirement files (*.toml) found")
    problems: list[str] = []
    catalogue = Catalogue()
    digest = hashlib.sha256()
    for path in files:
        raw = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + raw)
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(f"{path.name}: not valid TOML: {exc}")
            continue
        entries = data.get("requirement", [])
        if set(data) - {"requirement"} or not isinstance(entries, list):
            problems.append(f"{path.name}: expected only [[requirement]] tables")
            continue
        for index, entry in enumerate(entries):
            where = f"{path.name}: requirement {entry.get('id', f'#{index + 1}')}"
            requirement = _parse(entry, path.stem, where, problems)
            if requirement is None:
                continue
            if requirement.id in catalogue.requirements:
                problems.append(f"{where}: duplicate ID")
                continue
            catalogue.requirements[requirement.id] = requirement
    if problems:
        raise CatalogueError("\n".join(problems))
    catalogue.digest = "sha256:" + digest.hexdigest()
    catalogue.checks = load_check_index()
    return catalogue


def _parse(entry: dict, area: str, where: str, problems: list[str]) -> Requirement | None:
    before = len(problems)
    unknown = set(entry) - _FIELDS
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for name in ("id", "level", "section", "title", "sentence"):
        if not isinstance(entry.get(name), str) or not entry.get(name, "").strip():
            problems.append(f"{where}: '{name}' must be a non-empty string")
    if isinstance(entry.get("id"), str) and not ID_PATTERN.match(entry["id"]):
        problems.append(f"{where}: ID must look like BSK-AREA-123")
    if entry.get("level") not in LEVELS:
        problems.append(f"{where}: level must be one of {', '.join(LEVELS)}")
    verifiable = entry.get("verifiable", "any")
    if verifiable not in VERIFIABLE:
        problems.append(f"{where}: verifiable must be one of {', '.join(VERIFIABLE)}")
    needs = entry.get("needs", [])
    if not isinstance(needs, list) or any(n not in NEEDS for n in needs):
        problems.append(f"{where}: needs must be a list drawn from {', '.join(NEEDS)}")
    if len(problems) > before:
        return None
    return Requirement(
        id=entry["id"],
        level=entry["level"],
        section=entry["section"],
        title=entry["title"].strip(),
        sentence=" ".join(entry["sentence"].split()),
        area=area,
        verifiable=verifiable,
        needs=tuple(needs),
        withdrawn=bool(entry.get("withdrawn", False)),
    )
