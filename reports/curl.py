"""curl commands that reproduce a recorded exchange, with secrets as shell variables.

Evidence arrives redacted: every secret is a ``«kind:fingerprint»`` marker
(docs/architecture.md, "Evidence format"). To replay an exchange a reader
exports the real values as ``$BSK_ACCESS_TOKEN``, ``$BSK_API_KEY`` and so on;
the command refers to them, and everything else is quoted literally.

Quoting is the point of this module: the URL, headers and body come from the
target and the harness, so every literal piece goes through :func:`shlex.quote`
(or ANSI-C ``$'…'`` quoting when it holds control characters) and only
variable names we build ourselves, ``[A-Z0-9_]``, are left for the shell to expand.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: A redaction marker: «kind:fingerprint».
MARKER = re.compile(r"«([^«»:\s]{1,64}):([^«»\s]{1,128})»")

#: Environment variables by marker kind. Kinds not listed become BSK_<KIND>.
KIND_VARIABLES: dict[str, str] = {
    "access-token": "BSK_ACCESS_TOKEN",
    "refresh-token": "BSK_REFRESH_TOKEN",
    "token": "BSK_TOKEN",
    "api-key": "BSK_API_KEY",
    "key": "BSK_API_KEY",
    "password": "BSK_PASSWORD",
    "totp-code": "BSK_TOTP_CODE",
    "two-factor-code": "BSK_TOTP_CODE",
    "twofactorcode": "BSK_TOTP_CODE",
    "code": "BSK_TOTP_CODE",
    "totp-secret": "BSK_TOTP_SECRET",
    "bearer": "BSK_ACCESS_TOKEN",
    "cookie": "BSK_COOKIE",
}

#: Headers curl computes itself; replaying the recorded value would be wrong
#: (a length that no longer matches once placeholders are expanded) or noise.
SKIPPED_HEADERS = frozenset(
    {"content-length", "host", "connection", "accept-encoding", "transfer-encoding", "user-agent"}
)

#: Characters that must not sit raw in a report or a command someone copies:
#: C0/C1 controls (but tab and newline), and the Unicode characters that reorder
#: or hide text (bidi overrides, zero-width spaces, BOM, lone surrogates).
INVISIBLE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff\ud800-\udfff]"
)


def variable_for_kind(kind: str) -> str:
    """The environment variable name for a marker kind (always ``[A-Z0-9_]+``)."""
    known = KIND_VARIABLES.get(kind.lower())
    if known:
        return known
    cleaned = re.sub(r"[^A-Z0-9]+", "_", kind.upper()).strip("_") or "SECRET"
    return f"BSK_{cleaned}"


@dataclass
class Placeholders:
    """Assigns one variable per distinct secret, stable across a check's exchanges.

    The first access token seen is ``$BSK_ACCESS_TOKEN``; a second, different
    one (a refreshed token, say) is ``$BSK_ACCESS_TOKEN_2``, so a sequence of
    commands keeps telling the two apart, as the fingerprints did.
    """

    by_marker: dict[tuple[str, str], str] = field(default_factory=dict)

    def variable(self, kind: str, fingerprint: str) -> str:
        key = (kind, fingerprint)
        if key not in self.by_marker:
            base = variable_for_kind(kind)
            taken = set(self.by_marker.values())
            name, n = base, 1
            while name in taken:
                n += 1
                name = f"{base}_{n}"
            self.by_marker[key] = name
        return self.by_marker[key]

    def used(self) -> list[str]:
        """Variables handed out so far, in order of first use."""
        return list(dict.fromkeys(self.by_marker.values()))


def quote_literal(text: str) -> str:
    """Shell-quote ``text`` so that it reaches the program byte for byte.

    Plain text uses :func:`shlex.quote` (POSIX single quotes). Text with control
    or bidirectional-override characters uses ``$'…'`` with ``\\xNN``/``\\uNNNN``
    escapes (bash, zsh, ksh), so nothing invisible or terminal-altering can sit
    in a command someone copies into a shell.
    """
    if not INVISIBLE.search(text):
        return shlex.quote(text)
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == "'":
            out.append("\\'")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif INVISIBLE.match(ch):
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "$'" + "".join(out) + "'"


def shell_word(text: str, placeholders: Placeholders) -> str:
    """One shell word for ``text``, with each redaction marker as a variable reference.

    ``Bearer «access-token:7d1e»`` becomes ``'Bearer '"${BSK_ACCESS_TOKEN}"``:
    adjacent quoted pieces form one word, the literal part cannot expand, and the
    variable is double-quoted so its value is not split.
    """
    pieces: list[str] = []
    pos = 0
    for match in MARKER.finditer(text):
        if match.start() > pos:
            pieces.append(quote_literal(text[pos : match.start()]))
        pieces.append('"${' + placeholders.variable(match.group(1), match.group(2)) + '}"')
        pos = match.end()
    if pos < len(text) or not pieces:
        pieces.append(quote_literal(text[pos:]))
    return "".join(pieces)


def _header_items(headers: Any) -> list[tuple[str, str]]:
    if not isinstance(headers, Mapping):
        return []
    items: list[tuple[str, str]] = []
    for name, value in headers.items():
        values = value if isinstance(value, list) else [value]
        items.extend((str(name), "" if v is None else str(v)) for v in values)
    return items


def curl_command(exchange: Mapping[str, Any], placeholders: Placeholders | None = None) -> str:
    """A multi-line curl command that sends ``exchange``'s request again.

    ``-i`` prints the response status and headers, which are what most checks
    judge. A body the harness truncated is sent as recorded, with a comment
    saying so, since the rest of it is not in the evidence.
    """
    placeholders = placeholders if placeholders is not None else Placeholders()
    method = str(exchange.get("method") or "GET").upper()
    # One line per flag and its value, so a long command still reads as a list.
    lines: list[str] = ["curl -sS -i"]
    if method == "HEAD":
        lines.append("--head")
    elif method != "GET":
        lines.append(f"-X {quote_literal(method)}")
    # --url, so that a URL starting with "-" can never be read as an option.
    lines.append(f"--url {shell_word(str(exchange.get('url') or ''), placeholders)}")
    for name, value in _header_items(exchange.get("requestHeaders")):
        if name.lower() not in SKIPPED_HEADERS:
            lines.append(f"-H {shell_word(f'{name}: {value}', placeholders)}")
    body = exchange.get("requestBody")
    if body:
        lines.append(f"--data-binary {shell_word(str(body), placeholders)}")
    command = " \\\n  ".join(lines)
    if exchange.get("truncated") and body:
        command = (
            "# the evidence of this exchange was truncated: the body below may be only part of what was sent\n"
            + command
        )
    return command


def variables_note(placeholders: Placeholders) -> str:
    """A line telling the reader which variables to export before running the commands."""
    used = placeholders.used()
    if not used:
        return ""
    return "export " + " ".join(f"{name}=…" for name in used) + "   # the real values; the report holds none"
