"""The one rule for shortening text that may hold a secret: replace, cut, then mend the edge.

Every place that shortens text from the target (a quoted body in a failure
message, a check record's message, an evidence body, a terminal line, a JUnit
attribute, an HTML cell, a curl command) calls :func:`shorten`. In that order:

1. secrets are replaced first (the run's redactor, when the caller has one),
   so a cut never falls inside a secret the run knows;
2. the text is cut to the limit;
3. whatever secret still runs into the cut edge is replaced too: a JWT
   recognised by its ``eyJ`` start (cut anywhere, even in its header), an API
   key by ``bsk_``, an ``otpauth://`` URI, and the leading part of a secret the
   redactor knows (text that was cut before it reached us).

It lives in ``reports/`` because the reports shorten text too and never import
the harness (a buyer verifies a bundle with the reports alone); the harness
imports it, and its redactor answers the :class:`KnownSecrets` questions.
"""

from __future__ import annotations

import re
from typing import Protocol

# Whole shapes, recognised even when the run never saw them issued (forged or
# mutated JWTs the attack suites build, API keys of any prefix, otpauth URIs).
JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
API_KEY = re.compile(r"bsk_[A-Za-z]*_?[A-Za-z0-9]{12,}")
OTPAUTH = re.compile(r"otpauth://[^\s\"'<>]+")

# A shape that runs into the end of the text, from where it starts: a JWT from
# its "eyJ" (base64url and its two dots after it), an API key from "bsk_", an
# otpauth URI from "otpauth:". Each starts with a literal, so a search looks
# only where that literal occurs, not at every position.
_CUT_SHAPES = (
    ("jwt", re.compile(r"eyJ[A-Za-z0-9_.-]*\Z")),
    ("api-key", re.compile(r"bsk_[A-Za-z0-9_]*\Z")),
    ("totp-uri", re.compile(r"otpauth:[^\s\"'<>]*\Z")),
)
# A cut secret's leading part at the edge is replaced from this many characters
# on: fewer say nothing about the secret, and more would let them through.
EDGE_MIN = 4


class KnownSecrets(Protocol):
    """What a run's redactor (harness/evidence.py) adds to the shape rules."""

    def text(self, value: str) -> str:
        """``value`` with every secret it knows, and every secret shape, replaced."""
        ...

    def started_secret(self, text: str) -> tuple[int, str] | None:
        """Where in ``text`` a known secret starts that runs into its end (a
        leading part of at least :data:`EDGE_MIN` characters), and its kind."""
        ...

    def ended_secret(self, text: str) -> tuple[int, str] | None:
        """How many characters at the start of ``text`` are the trailing part
        of a known secret (at least :data:`EDGE_MIN`), and its kind."""
        ...


def cut_marker(kind: str) -> str:
    """What replaces a cut secret: ``«jwt…»``. No fingerprint (the whole secret
    is not there to take one of), and not the ``«kind:fingerprint»`` form a
    curl command turns into a variable: a cut secret cannot be replayed."""
    return f"«{kind}…»"


def mend_end(text: str, secrets: KnownSecrets | None = None) -> str:
    """``text`` (whose end is a cut edge) with any secret running into its end replaced."""
    candidates: list[tuple[int, str]] = []
    for kind, shape in _CUT_SHAPES:
        found = shape.search(text)
        if found is not None:
            candidates.append((found.start(), kind))
    if secrets is not None:
        known = secrets.started_secret(text)
        if known is not None:
            candidates.append(known)
    if not candidates:
        return text
    start, kind = min(candidates)  # the earliest start covers the others
    return text[:start] + cut_marker(kind)


def mend_start(text: str, secrets: KnownSecrets | None = None) -> str:
    """``text`` (whose start is a cut edge: text shown from the middle) with
    the trailing part of a known secret at its start replaced. Shapes are
    recognised by their start, which is not there, so only known secrets are."""
    known = secrets.ended_secret(text) if secrets is not None else None
    if known is None:
        return text
    length, kind = known
    return cut_marker(kind) + text[length:]


def shorten(text: str, limit: int, secrets: KnownSecrets | None = None, *, in_bytes: bool = False) -> tuple[str, bool]:
    """``text`` with secrets replaced, then cut to ``limit`` characters (UTF-8
    bytes with ``in_bytes``), then mended at the cut; and whether it was cut.

    The caller says that it was cut in its own words (``…``, a note). A mended
    edge may run a marker's length (a dozen characters) past ``limit``."""
    if secrets is not None:
        text = secrets.text(text)
    return cut(text, limit, secrets, in_bytes=in_bytes)


def cut(text: str, limit: int, secrets: KnownSecrets | None = None, *, in_bytes: bool = False) -> tuple[str, bool]:
    """Steps 2 and 3 of :func:`shorten`, for text its caller has just redacted
    itself (an evidence body, redacted field by field as JSON)."""
    if in_bytes:
        data = text.encode("utf-8", errors="replace")
        if len(data) <= limit:
            return text, False
        kept = data[:limit].decode("utf-8", errors="ignore")
    else:
        if len(text) <= limit:
            return text, False
        kept = text[:limit]
    return mend_end(kept, secrets), True


def mend_windows(text: str, secrets: KnownSecrets | None = None, ellipsis: str = "...") -> str:
    """``text`` in which others cut values out of the middle, marking each gap
    with ``ellipsis`` (pytest's saferepr shows ``'eyJhbGci...c2lnbg'``): both
    edges of every gap are mended, the end before it and the start after it."""
    pieces = text.split(ellipsis)
    if len(pieces) == 1:
        return text
    mended = [mend_end(pieces[0], secrets)]
    for piece in pieces[1:-1]:
        mended.append(mend_end(_mend_after_gap(piece, secrets, ellipsis), secrets))
    mended.append(_mend_after_gap(pieces[-1], secrets, ellipsis))
    return ellipsis.join(mended)


def _mend_after_gap(piece: str, secrets: KnownSecrets | None, ellipsis: str) -> str:
    """:func:`mend_start` after a gap, where the gap's first characters may be
    the value's own: ``'…In0....XaP6'`` is ``In0.`` + ``...`` + ``XaP6``, and
    splitting at the first ``...`` leaves ``.XaP6`` after it."""
    mark = ellipsis[:1]
    for skip in range(len(ellipsis)):
        if skip and piece[skip - 1 : skip] != mark:
            break
        mended = mend_start(piece[skip:], secrets)
        if mended != piece[skip:]:
            return piece[:skip] + mended
    return piece
