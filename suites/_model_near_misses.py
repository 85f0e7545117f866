"""Near-miss credentials for the model-based run: a small local family.

Issue 22's class 3 builds the full family as data (`suites/_near_miss.py`,
`near_misses(value, kind, *, others=...) -> list[NearMiss]`). Until it is on
main, the model run takes its inputs from this stand-in, which has the same
signature: switching is one import in `suites/_model_machine.py`.

Every member must be refused exactly as a plain wrong value is. Only changes
that survive HTTP are made: whitespace at either end of a header value is
stripped by HTTP itself (RFC 9110 §5.5), so it is never tried here. A change
to a base64url segment is made in its middle, never its last character, whose
low bits may be padding: the decoded bytes must differ (contract §8, an
"altered" signature).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

KINDS = ("api-key", "password", "access-token", "refresh-token", "totp-code")
_ENVIRONMENT_PREFIXES = ("bsk_test_", "bsk_live_")


@dataclass(frozen=True)
class NearMiss:
    label: str  # what was changed, for evidence and failure messages (never the value)
    value: str


def near_misses(value: str, kind: str, *, others: Mapping[str, str] | None = None) -> list[NearMiss]:
    """The near-misses of `value`, a credential of `kind` (one of KINDS).
    `others` maps a label to another principal's right value of the same kind
    (the other account's password, say): each is a near-miss as well."""
    if kind not in KINDS:
        raise ValueError(f"unknown credential kind {kind!r}; one of {', '.join(KINDS)}")
    family: list[NearMiss] = []
    if kind == "api-key":
        family += _api_key(value)
    elif kind == "access-token":
        family += _jwt(value)
    elif kind == "totp-code":
        family += _totp_code(value)
    else:  # passwords and opaque or JWT refresh tokens
        family += _text(value)
    family += [NearMiss(f"the right {kind} of {label}", other) for label, other in (others or {}).items()]
    return [miss for miss in family if miss.value != value]


def _swap_case(char: str) -> str:
    return char.lower() if char.isupper() else char.upper()


def _changed(char: str) -> str:
    """Another character of the same class: a letter's case, a digit's neighbour."""
    if char.isdigit():
        return str((int(char) + 1) % 10)
    return _swap_case(char) if char.isalpha() else ("A" if char != "A" else "B")


def _at_middle(text: str, label: str) -> NearMiss:
    middle = len(text) // 2
    return NearMiss(label, text[:middle] + _changed(text[middle]) + text[middle + 1 :])


def _text(value: str) -> list[NearMiss]:
    return [
        _at_middle(value, "one character changed (letter case, or a digit's neighbour)"),
        NearMiss("truncated by one character", value[:-1]),
        NearMiss("extended by one character", value + ("x" if not value.endswith("x") else "y")),
        NearMiss("upper-cased as a whole", value.upper()),
    ]


def _api_key(value: str) -> list[NearMiss]:
    family = _text(value)
    for own, other in (_ENVIRONMENT_PREFIXES, _ENVIRONMENT_PREFIXES[::-1]):
        if value.startswith(own):
            family.append(NearMiss("the other environment's prefix, the same secret", other + value[len(own) :]))
            family.append(NearMiss("the prefix in upper case", own.upper() + value[len(own) :]))
    return family


def _jwt(value: str) -> list[NearMiss]:
    parts = value.split(".")
    if len(parts) != 3 or not all(parts):
        return _text(value)
    header, payload, signature = parts
    return [
        NearMiss("one character of the signature changed", ".".join([header, payload, _at_middle(signature, "").value])),
        NearMiss("one character of the claims changed", ".".join([header, _at_middle(payload, "").value, signature])),
        NearMiss("truncated by one character", value[:-1]),
    ]


def _totp_code(value: str) -> list[NearMiss]:
    family = [_at_middle(value, "one digit changed")]
    if value.startswith("0"):
        family.append(NearMiss("its leading zero dropped", value[1:]))
    family.append(NearMiss("a seventh digit appended", value + "0"))
    return family
