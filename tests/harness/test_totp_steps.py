"""The TOTP step of each code a request carries, as its evidence says it."""

from __future__ import annotations

import json

import pyotp

from bsk_conformance.harness.evidence import EvidenceLog, Redactor
from bsk_conformance.harness.totp_steps import SEARCHED_STEPS, codes_in, step_of, steps_note

SECRET = pyotp.random_base32(32)
OTHER = pyotp.random_base32(32)
NOW = 1_700_000_015.0  # 22:13:35Z, 5 s into step 56 666 667 (22:13:30Z-22:14:00Z)
NOW_STEP = 56_666_667


def _body(**fields: str) -> bytes:
    return json.dumps(fields).encode()


def test_codes_are_read_from_the_code_fields_only() -> None:
    assert codes_in(_body(email="a@b.test", password="123456", twoFactorCode="654321")) == ["654321"]
    assert codes_in(_body(code="012345")) == ["012345"]
    assert codes_in(_body(code="12345")) == []  # not six digits: no code of any step
    assert codes_in(b'{"code": 123456}') == []
    assert codes_in(b"not json, code\"") == []
    assert codes_in(b"") == []


def test_each_code_is_placed_on_its_step_the_nearest_first() -> None:
    totp = pyotp.TOTP(SECRET)
    for offset in (-SEARCHED_STEPS, -2, -1, 0, 1, 4, SEARCHED_STEPS):
        assert step_of(totp.generate_otp(NOW_STEP + offset), [OTHER, SECRET], NOW_STEP) == NOW_STEP + offset
    assert step_of(totp.generate_otp(NOW_STEP), [OTHER], NOW_STEP) != NOW_STEP  # another account's secret


def test_the_note_names_the_step_its_window_and_its_distance_from_now() -> None:
    code = pyotp.TOTP(SECRET).generate_otp(NOW_STEP - 2)
    note = steps_note(_body(twoFactorCode=code), [SECRET], NOW)
    assert note == (
        f"TOTP code of step T={NOW_STEP - 2} (22:12:30Z-22:13:00Z), -2 from the target's now "
        f"(T={NOW_STEP}, T = floor(unix/30))"
    )
    assert code not in note
    assert steps_note(_body(email="a@b.test"), [SECRET], NOW) is None


def test_a_code_of_no_known_secret_is_said_to_be_of_no_step() -> None:
    taken = {pyotp.TOTP(SECRET).generate_otp(NOW_STEP + d) for d in range(-SEARCHED_STEPS, SEARCHED_STEPS + 1)}
    wrong = next(f"{n:06d}" for n in range(0, 1_000_000, 7919) if f"{n:06d}" not in taken)
    assert steps_note(_body(code=wrong), [SECRET], NOW) == (
        f"TOTP code of no step within {SEARCHED_STEPS} of the target's now (T={NOW_STEP})"
    )


def test_the_evidence_adds_the_step_to_the_exchange_note_and_redacts_the_code() -> None:
    redactor = Redactor()
    redactor.register(SECRET, "totp-secret")
    log = EvidenceLog(redactor, totp_now=lambda: NOW)
    code = pyotp.TOTP(SECRET).generate_otp(NOW_STEP)
    with log.collecting() as kept, log.note("login with a fresh code"):
        log.record_exchange(
            method="POST", url="http://t/auth/login", request_headers={}, request_body=_body(twoFactorCode=code),
            status=200, response_headers={}, response_body=b"{}", started=NOW, duration=0.01,
        )  # fmt: skip
    (exchange,) = kept
    assert exchange.note is not None and exchange.note.startswith(
        f"login with a fresh code; TOTP code of step T={NOW_STEP} "
    ), exchange.note
    assert code not in exchange.requestBody


def test_without_a_clock_to_read_the_note_is_left_alone() -> None:
    redactor = Redactor()
    redactor.register(SECRET, "totp-secret")
    log = EvidenceLog(redactor)
    with log.collecting() as kept:
        log.record_exchange(
            method="POST", url="http://t/auth/2fa/enable", request_headers={}, request_body=_body(code="123456"),
            status=204, response_headers={}, response_body=b"", started=NOW, duration=0.01,
        )  # fmt: skip
    assert kept[0].note is None
