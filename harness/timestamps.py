"""RFC 3339 date-times as the contract writes them (§2: UTC, `…Z`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = ["format_rfc3339", "is_rfc3339_utc", "parse_rfc3339"]

_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<time>\d{2}:\d{2}:(?P<second>\d{2}))(?P<fraction>\.\d+)?"
    r"(?P<offset>[Zz]|[+-]00:00)\Z"
)


def format_rfc3339(moment: float) -> str:
    """Epoch seconds as an RFC 3339 UTC date-time, whole seconds: `2027-01-15T08:00:00Z`."""
    return datetime.fromtimestamp(int(moment), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(value: object) -> float:
    """Epoch seconds of an ISO 8601 / RFC 3339 date-time (`Z`, `z` or an offset);
    ValueError when `value` is not one. Judge the shape with `is_rfc3339_utc`."""
    text = str(value).replace("z", "Z").replace("Z", "+00:00")
    return datetime.fromisoformat(text).timestamp()


def is_rfc3339_utc(value: object) -> bool:
    """`2027-01-15T08:00:00Z` (or `+00:00`, `-00:00`, a fraction of a second)."""
    if not isinstance(value, str):
        return False
    match = _RFC3339.match(value)
    if match is None:
        return False
    second = match.group("second")
    text = f"{match.group('date')}T{match.group('time')}"
    if second == "60":  # a leap second (RFC 3339 §5.7): valid, but datetime cannot hold it
        text = text[:-2] + "59"
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True
