"""Parsing the project's own Python source in tests, safely under threads."""

from __future__ import annotations

import ast

ATTEMPTS = 3


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    """`ast.parse`, retried on CPython 3.11's spurious SystemError.

    In 3.11 the AST constructor's recursion-depth counter is interpreter-wide
    (python/cpython#106905): a parse that overlaps another thread's (a server
    thread a test left running, pytest rewriting a module imported there)
    can fail with "AST constructor recursion depth mismatch" although the
    source is fine. The same text parsed again is the same tree; a real
    syntax error is a SyntaxError, never retried.
    """
    for attempt in range(ATTEMPTS):
        try:
            return ast.parse(source, filename=filename)
        except SystemError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
