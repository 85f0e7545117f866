"""Which collected items are conformance checks: where the suites live, what
a run collects when the user named nothing, each check's requirement and its
name in reports, and the catalogue listing (`--list-requirements`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bsk_conformance import suites as suites_package
from bsk_conformance.harness.options import usage_error
from bsk_conformance.harness.state import Catalogue, Requirement
from bsk_conformance.reports.vocabulary import LEVELS


def suites_dir() -> Path:
    """Where the installed conformance suites live (in a checkout installed
    with `pip install -e .`, the checkout's own `suites/`)."""
    return Path(suites_package.__file__).resolve().parent


def intended_args(config: pytest.Config) -> list[str] | None:
    """What to collect when the user named nothing, or None to keep pytest's choice.

    pytest decides its rootdir and ini file before any plugin's options are
    known, so a separate value (`--report-dir DIR`, `--target-profile /abs/p.toml`)
    is taken for a test path there: the rootdir moves, the ini's `testpaths` is
    lost and pytest falls back to collecting the whole invocation directory.
    The full parse that follows knows the options, so `file_or_dir` is right
    by now: when it is empty, a conformance run means the suites."""
    if config.getoption("file_or_dir"):
        return None  # explicit test paths: exactly those
    suites = suites_dir()
    if config.getoption("target") or Path(config.invocation_params.dir).resolve() == suites.parent:
        return [str(suites)]
    return None  # another project's own tests: stay out of the way


def is_conformance_run(config: pytest.Config) -> bool:
    """Whether this pytest process runs the conformance suites (a target
    given, or the suites among what it collects), as opposed to another
    project's own tests, where the plugin stays out of the way."""
    if config.getoption("target", None):
        return True
    suites = suites_dir()
    for arg in config.args:
        name = str(arg).split("::", 1)[0]
        if name.startswith(suites_package.__name__):
            return True  # --pyargs bsk_conformance.suites[.module]
        path = Path(name)
        if not path.is_absolute():
            path = Path(config.invocation_params.dir) / path
        path = path.resolve()
        if path == suites or suites in path.parents:
            return True
    return False


def is_suite_item(item: pytest.Item) -> bool:
    return suites_dir() in Path(item.path).resolve().parents


def check_name(item: pytest.Item) -> str:
    """The check's name in reports: `suites/<module>::<test>`, the same
    whether the suites ran from a checkout or from site-packages (pytest's
    nodeid is relative to a rootdir that differs between the two)."""
    path = Path(item.path).resolve()
    suites = suites_dir()
    if suites not in path.parents:
        return item.nodeid
    _, _, rest = item.nodeid.partition("::")
    return f"suites/{path.relative_to(suites).as_posix()}::{rest}"


def requirement_of(item: pytest.Item, catalogue: Catalogue) -> Requirement | None:
    """The requirement a check names, or None for an ordinary test; a suite
    item without one, or naming a wrong one, is a usage error."""
    markers = list(item.iter_markers("requirement"))
    if not markers:
        if is_suite_item(item):
            usage_error(
                f"{item.nodeid}: a conformance check must name its requirement with @pytest.mark.requirement(ID)"
            )
        return None
    ids = [arg for marker in markers for arg in marker.args]
    if len(ids) != 1 or not isinstance(ids[0], str):
        usage_error(f"{item.nodeid}: a check names exactly one requirement, got {ids!r}")
    rid = ids[0]
    if rid not in catalogue:
        usage_error(f"{item.nodeid}: unknown requirement ID {rid!r} (not in the catalogue)")
    requirement = catalogue[rid]
    if requirement.withdrawn:
        usage_error(f"{item.nodeid}: requirement {rid} is withdrawn")
    return requirement


def print_catalogue(config: pytest.Config, catalogue: Catalogue, coverage: dict[str, list[str]]) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    write = reporter.write_line if reporter is not None else print
    if reporter is not None:
        reporter.ensure_newline()
    active = catalogue.active()
    write(f"{'ID':<13} {'LEVEL':<6} {'§':<3} {'CHECKS':>6}  TITLE")
    for requirement in sorted(active, key=lambda r: (r.section, r.id)):
        checks = len(coverage.get(requirement.id, []))
        where = "" if requirement.verifiable == "any" else "  [in-process only]"
        columns = f"{requirement.id:<13} {requirement.level:<6} {requirement.section:<3} {checks:>6}"
        write(f"{columns}  {requirement.title}{where}")
    uncovered = [r.id for r in active if not coverage.get(r.id)]
    by_level = {level: sum(1 for r in active if r.level == level) for level in LEVELS}
    write(
        f"{len(active)} requirements ({', '.join(f'{n} {lvl}' for lvl, n in by_level.items())}); "
        f"{sum(len(v) for v in coverage.values())} checks; "
        f"{'every requirement has a check' if not uncovered else 'without a check: ' + ', '.join(uncovered)}"
    )
