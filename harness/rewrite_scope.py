"""Which modules pytest's assertion rewriting may touch in a conformance run.

pytest marks for rewriting every top-level module of each installed
distribution that declares a ``pytest11`` entry point
(``Config._mark_plugins_for_rewrite``). The harness's own dependencies
schemathesis and hypothesis declare one, so the first fuzzing check imports
some 400 of their modules through the rewrite hook: each is parsed, rewritten
and compiled from source, and with ``PYTHONDONTWRITEBYTECODE=1`` (CI machines,
many Docker images) that happens on every run, about 4 s of it. None of those
modules holds an ``assert`` a user reads: the suites judge through the check
API, and a dependency's own asserts are its business.

So the plugin takes back the marks of the distributions the harness brings
in, and only those, as the first thing its module does: pytest imports it
(entry point) right after marking, before it imports the harness's modules,
any conftest or any check. What pytest rewrites for its own reasons stays as it is:
test files (``python_files``), conftest.py, paths given on the command line,
``pytest.register_assert_rewrite`` and ``-p``/``pytest_plugins`` modules (the
plugin's five fixture and hook modules among them: small, and pytest's rule), and
the marks of any other plugin distribution (a user's own). A user-written
check fails with the same introspection as before.
"""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Iterable

#: The distributions whose modules are never rewritten: this package, the
#: dependencies it installs that declare a pytest11 entry point, and those of
#: its `test` extra. tests/harness/test_rewrite_scope.py checks that every
#: pytest11 distribution among the requirements is named here.
NOT_REWRITTEN = ("bsk-conformance", "schemathesis", "hypothesis", "anyio", "pytest-xdist", "time-machine")


def import_names(distribution: importlib.metadata.Distribution) -> set[str]:
    """The top-level import names pytest marks for a plugin distribution: its
    files' top-level modules and packages or, for an editable install that
    lists no Python files, the packages its pytest11 entry points name."""
    from _pytest.config import _iter_rewritable_modules  # what pytest marks, by pytest's own rule

    names = set(_iter_rewritable_modules(str(file) for file in distribution.files or []))
    names |= {
        entry.value.partition(":")[0].strip().split(".")[0]
        for entry in distribution.entry_points
        if entry.group == "pytest11"
    }
    return names


def installed(names: Iterable[str]) -> list[importlib.metadata.Distribution]:
    """Every installed copy of each named distribution (a checkout's
    egg-info beside the editable install's metadata counts too)."""
    return [dist for name in names for dist in importlib.metadata.distributions(name=name)]


def not_rewritten_names() -> set[str]:
    """The top-level import names of :data:`NOT_REWRITTEN`'s installed distributions."""
    return set().union(*(import_names(dist) for dist in installed(NOT_REWRITTEN)))


def unmark_dependencies() -> set[str]:
    """Take back the rewrite marks of :data:`NOT_REWRITTEN`'s import names from
    pytest's import hook (the one on ``sys.meta_path``); returns the names
    unmarked. A no-op outside pytest, with ``--assert=plain`` (no hook), or
    should pytest's hook change shape."""
    from _pytest.assertion.rewrite import AssertionRewritingHook

    hooks = [hook for hook in sys.meta_path if isinstance(hook, AssertionRewritingHook)]
    if not hooks:
        return set()
    ours = not_rewritten_names()
    unmarked: set[str] = set()
    for hook in hooks:
        marked = getattr(hook, "_must_rewrite", None)
        if not isinstance(marked, set):
            continue
        found = marked & ours
        marked.difference_update(found)
        unmarked |= found
        cache = getattr(hook, "_marked_for_rewrite_cache", None)
        if isinstance(cache, dict):
            cache.clear()
    return unmarked
