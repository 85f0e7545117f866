"""Which TOTP step each code a request carries belongs to, said in its evidence.

A 2FA check judges codes by their step (T = floor(unix time / 30), RFC 6238):
"a code of the current step logs in", "a code two steps old is refused". On a
real clock (`--clock real`) nothing holds the step still while a check runs,
so its evidence says, for each code sent, the step it is the code of and how
far that is from the target's now when the answer came. The code itself is
redacted as before; a step number tells nothing of the secret.

The step is found, not remembered: codes are made in many places (the
registry's fresh codes, a check's far or wrong ones), and the body on the wire
is what the target judged. Each code is matched against the TOTP secrets the
run's redactor knows, within `SEARCHED_STEPS` of now.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

import pyotp

from bsk_conformance.harness.contract import TOTP_STEP

#: The request fields that carry a TOTP code (login, 2FA enable and disable).
CODE_FIELDS: Final = ("twoFactorCode", "code")
#: Steps either side of now a code is matched against: the farthest a check
#: sends on purpose is four steps (RFC 6238 §5.2's checks), with room to spare.
SEARCHED_STEPS: Final = 10
_CODE = re.compile(r"[0-9]{6}")


def codes_in(body: bytes) -> list[str]:
    """The six-digit codes of a JSON request body's code fields."""
    if not body or b'ode"' not in body:  # neither field named: no parse (most bodies)
        return []
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(document, dict):
        return []
    return [value for name in CODE_FIELDS if isinstance(value := document.get(name), str) and _CODE.fullmatch(value)]


def step_of(code: str, secrets: Iterable[str], now_step: int) -> int | None:
    """The step within SEARCHED_STEPS of `now_step` whose code (under one of
    `secrets`) is `code`, the nearest first; None when there is none."""
    totps = [pyotp.TOTP(secret) for secret in secrets]
    for distance in range(SEARCHED_STEPS + 1):
        for step in dict.fromkeys((now_step - distance, now_step + distance)):
            if any(totp.generate_otp(step) == code for totp in totps):
                return step
    return None


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%H:%M:%SZ")


def steps_note(body: bytes, secrets: Iterable[str], now: float) -> str | None:
    """What the evidence says of the codes in `body`, judged at `now` (the
    target's time, epoch seconds); None when the body carries no code."""
    codes = codes_in(body)
    if not codes:
        return None
    known = list(secrets)
    now_step = int(now // TOTP_STEP)
    said = []
    for code in codes:
        step = step_of(code, known, now_step) if known else None
        if step is None:
            said.append(f"TOTP code of no step within {SEARCHED_STEPS} of the target's now (T={now_step})")
        else:
            start = step * TOTP_STEP
            said.append(
                f"TOTP code of step T={step} ({_utc(start)}-{_utc(start + TOTP_STEP)}), "
                f"{step - now_step:+d} from the target's now (T={now_step}, T = floor(unix/{TOTP_STEP}))"
            )
    return "; ".join(said)
