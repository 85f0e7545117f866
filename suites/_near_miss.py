"""The near-miss family of a credential (issue 22, class 3).

Every credential the harness holds (an API key, a password, an access or
refresh token, a TOTP code) has values close to it that a sloppy comparison
takes for it: the letter case changed, cut short or made longer, trimmed,
URL- or Unicode-decoded, read as a number, spliced with the other account's.
Each must be refused exactly as a plain wrong value is. The transformations
are data (`fixtures/attack-vectors/near-misses.json`: which kinds each applies
to, whether HTTP can carry it in a header, its level); this module holds one
function per name and builds the family:

    near_misses(value, "api-key", others={"other-account": bobs_key})

`others` gives what some transformations need besides the value:
`"other-account"` (the same credential of the other account) and, for TOTP
codes, `"totp-secret"` with `"now"` (the target's time, in epoch seconds).
A transformation that does not apply (no letter to change, no other account,
not a JWT) gives nothing; a result equal to the value or to an earlier one
is dropped, so every member of a family differs from the value and from the
others. The family is the same for the same input: no randomness.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

import pyotp

from ._cases import vector_rows

KINDS = ("api-key", "password", "access-token", "refresh-token", "totp-code")
LEVELS = ("MUST", "SHOULD")
OTHER_ACCOUNT = "other-account"
TOTP_SECRET = "totp-secret"
NOW = "now"
TOTP_STEP_SECONDS = 30

_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
_ENVIRONMENT_PREFIX = re.compile(r"^bsk_(test|live)_")
_SWAP_ENVIRONMENT = {"bsk_test_": "bsk_live_", "bsk_live_": "bsk_test_"}
# Latin letters and their Cyrillic twins (no NFKC/NFKD mapping joins them)
_LOOK_ALIKES = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "p": "\u0440", "x": "\u0445",
                "A": "\u0410", "E": "\u0415", "O": "\u041e", "C": "\u0421", "P": "\u0420", "X": "\u0425"}
_FULLWIDTH_DIGITS = str.maketrans({str(d): chr(0xFF10 + d) for d in range(10)})


@dataclass(frozen=True)
class Transformation:
    """One row of near-misses.json."""

    name: str
    kinds: list
    in_headers: bool
    level: str
    why: str

    def __post_init__(self) -> None:
        unknown = [kind for kind in self.kinds if kind not in KINDS]
        if unknown:
            raise ValueError(f"{self.name}: unknown kind(s) {unknown}; known: {', '.join(KINDS)}")
        if self.level not in LEVELS:
            raise ValueError(f"{self.name}: level {self.level!r} is not one of {LEVELS}")


@dataclass(frozen=True)
class NearMiss:
    """A value one transformation away from a credential."""

    label: str  # the transformation's name, stable across runs: a case id
    value: str
    # False where HTTP cannot carry the value in a header field as it is
    # (leading/trailing whitespace is stripped by the field syntax, CR/LF refused)
    in_headers: bool = True
    level: str = "MUST"


Context = Mapping[str, str]
Transform = Callable[[str, str, Context], "str | None"]


# -- where a value's secret part starts ------------------------------------------


def _secret_start(value: str, kind: str) -> int:
    """Index of the first character after a documented prefix (bsk_test_ of a key)."""
    if kind == "api-key":
        match = _ENVIRONMENT_PREFIX.match(value)
        if match:
            return match.end()
    return 0


def _is_jwt(value: str) -> bool:
    return bool(_JWT.match(value))


def _cased_positions(value: str, start: int) -> list[int]:
    return [i for i in range(start, len(value)) if value[i].lower() != value[i].upper()]


def _swapcase_at(value: str, index: int | None) -> str | None:
    if index is None:
        return None
    return value[:index] + value[index].swapcase() + value[index + 1:]


# -- the transformations, by name --------------------------------------------------


def _upper_cased_prefix(value: str, kind: str, others: Context) -> str | None:
    match = _ENVIRONMENT_PREFIX.match(value)
    return value[: match.end()].upper() + value[match.end():] if match else None


def _upper_cased(value: str, kind: str, others: Context) -> str | None:
    return value.upper()


def _lower_cased(value: str, kind: str, others: Context) -> str | None:
    return value.lower()


def _case_of_first_letter(value: str, kind: str, others: Context) -> str | None:
    positions = _cased_positions(value, _secret_start(value, kind))
    return _swapcase_at(value, positions[0] if positions else None)


def _case_of_middle_letter(value: str, kind: str, others: Context) -> str | None:
    positions = _cased_positions(value, _secret_start(value, kind))
    return _swapcase_at(value, positions[len(positions) // 2] if positions else None)


def _case_of_last_letter(value: str, kind: str, others: Context) -> str | None:
    positions = _cased_positions(value, _secret_start(value, kind))
    return _swapcase_at(value, positions[-1] if positions else None)


def _truncated_by_one(value: str, kind: str, others: Context) -> str | None:
    return value[:-1] if len(value) > 1 else None


def _truncated_to_half(value: str, kind: str, others: Context) -> str | None:
    return value[: len(value) // 2] if len(value) > 1 else None


def _extended_by_one(value: str, kind: str, others: Context) -> str | None:
    return value + ("0" if kind == "totp-code" else "A")


def _whitespace(where: str, space: str) -> Transform:
    def transform(value: str, kind: str, others: Context) -> str | None:
        return space + value if where == "leading" else value + space

    return transform


def _inner_space(value: str, kind: str, others: Context) -> str | None:
    middle = len(value) // 2
    return value[:middle] + " " + value[middle:] if len(value) > 1 else None


def _percent_encoded_character(value: str, kind: str, others: Context) -> str | None:
    """The first character outside [A-Za-z0-9] (an underscore, a dot, a space), else the first one."""
    index = next((i for i, char in enumerate(value) if not char.isascii() or not char.isalnum()), 0)
    encoded = quote(value[index], safe="")
    if encoded == value[index]:  # quote leaves letters and digits alone: encode the byte itself
        encoded = "".join(f"%{byte:02X}" for byte in value[index].encode("utf-8"))
    return value[:index] + encoded + value[index + 1:]


def _fullwidth_digits(value: str, kind: str, others: Context) -> str | None:
    start = _secret_start(value, kind)
    return value[:start] + value[start:].translate(_FULLWIDTH_DIGITS)


def _look_alike_letter(value: str, kind: str, others: Context) -> str | None:
    start = _secret_start(value, kind)
    index = next((i for i in range(start, len(value)) if value[i] in _LOOK_ALIKES), None)
    return None if index is None else value[:index] + _LOOK_ALIKES[value[index]] + value[index + 1:]


def _other_environment_prefix(value: str, kind: str, others: Context) -> str | None:
    match = _ENVIRONMENT_PREFIX.match(value)
    return _SWAP_ENVIRONMENT[match.group(0)] + value[match.end():] if match else None


def _other_account(value: str, kind: str, others: Context) -> str | None:
    return others.get(OTHER_ACCOUNT)


def _spliced_with_other_account(value: str, kind: str, others: Context) -> str | None:
    other = others.get(OTHER_ACCOUNT)
    if not other or _is_jwt(value):
        return None
    start = _secret_start(value, kind)
    if value[:start] != other[:start]:
        return None
    half = start + (len(value) - start) // 2
    return value[:half] + other[half:]


def _segment_of_other_account(index: int) -> Transform:
    def transform(value: str, kind: str, others: Context) -> str | None:
        other = others.get(OTHER_ACCOUNT)
        if not other or not _is_jwt(value) or not _is_jwt(other):
            return None
        segments, theirs = value.split("."), other.split(".")
        segments[index] = theirs[index]
        return ".".join(segments)

    return transform


def _padded_signature(value: str, kind: str, others: Context) -> str | None:
    if not _is_jwt(value):
        return None
    missing = -len(value.rsplit(".", 1)[1]) % 4
    return value + "=" * missing if missing else None


def _leading_zero_added(value: str, kind: str, others: Context) -> str | None:
    return "0" + value


def _leading_zero_dropped(value: str, kind: str, others: Context) -> str | None:
    return value[1:] if value.startswith("0") else None


def _plus_signed(value: str, kind: str, others: Context) -> str | None:
    return "+" + value


def _digit_group_separator(value: str, kind: str, others: Context) -> str | None:
    middle = len(value) // 2
    return value[:middle] + "_" + value[middle:] if len(value) > 1 else None


def _step_away(steps: int) -> Transform:
    def transform(value: str, kind: str, others: Context) -> str | None:
        secret, now = others.get(TOTP_SECRET), others.get(NOW)
        if not secret or now is None:
            return None
        step = int(float(now) // TOTP_STEP_SECONDS) + steps
        return pyotp.TOTP(secret).generate_otp(step)

    return transform


TRANSFORMS: dict[str, Transform] = {
    "upper-cased-prefix": _upper_cased_prefix,
    "upper-cased": _upper_cased,
    "lower-cased": _lower_cased,
    "case-of-first-letter": _case_of_first_letter,
    "case-of-middle-letter": _case_of_middle_letter,
    "case-of-last-letter": _case_of_last_letter,
    "truncated-by-one": _truncated_by_one,
    "truncated-to-half": _truncated_to_half,
    "extended-by-one": _extended_by_one,
    "leading-space": _whitespace("leading", " "),
    "trailing-space": _whitespace("trailing", " "),
    "leading-tab": _whitespace("leading", "\t"),
    "trailing-tab": _whitespace("trailing", "\t"),
    "trailing-newline": _whitespace("trailing", "\n"),
    "inner-space": _inner_space,
    "percent-encoded-character": _percent_encoded_character,
    "fullwidth-digits": _fullwidth_digits,
    "look-alike-letter": _look_alike_letter,
    "other-environment-prefix": _other_environment_prefix,
    "other-account": _other_account,
    "spliced-with-other-account": _spliced_with_other_account,
    "payload-of-other-account": _segment_of_other_account(1),
    "signature-of-other-account": _segment_of_other_account(2),
    "padded-signature": _padded_signature,
    "leading-zero-added": _leading_zero_added,
    "leading-zero-dropped": _leading_zero_dropped,
    "plus-signed": _plus_signed,
    "digit-group-separator": _digit_group_separator,
    "step-two-behind": _step_away(-2),
    "step-two-ahead": _step_away(2),
}


def transformations() -> tuple[Transformation, ...]:
    """The rows of near-misses.json, each with its function here (checked both ways)."""
    rows = vector_rows("near-misses", "transformations", Transformation)
    named = [row.name for row in rows]
    missing, unknown = sorted(set(TRANSFORMS) - set(named)), sorted(set(named) - set(TRANSFORMS))
    if missing or unknown or len(named) != len(set(named)):
        raise ValueError(
            "fixtures/attack-vectors/near-misses.json and suites/_near_miss.py disagree: "
            f"without a row {missing}, without a function {unknown}, or a name twice"
        )
    return rows


TABLE = transformations()


def near_misses(value: str, kind: str, *, others: Mapping[str, str] = {}) -> list[NearMiss]:  # noqa: B006 (read only)
    """The near-miss family of `value`, a credential of `kind`, in the table's order."""
    if kind not in KINDS:
        raise ValueError(f"unknown credential kind {kind!r}; known: {', '.join(KINDS)}")
    family: list[NearMiss] = []
    seen = {value}
    for row in TABLE:
        if kind not in row.kinds:
            continue
        made = TRANSFORMS[row.name](value, kind, others)
        if not made or made in seen:
            continue
        seen.add(made)
        family.append(NearMiss(row.name, made, row.in_headers, row.level))
    return family
