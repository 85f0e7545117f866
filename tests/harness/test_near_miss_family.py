"""The near-miss family (suites/_near_miss.py, fixtures/attack-vectors/near-misses.json):
which members each kind of credential gets, that every member differs from the
value and from the others, and that the members mean what their labels say."""

from __future__ import annotations

import unicodedata

import pyotp
import pytest

from bsk_conformance.suites._near_miss import KINDS, TABLE, TRANSFORMS, near_misses

KEY = "bsk_test_" + "AbCdEfGh" + "k3Lm9NpQ2rStUvWx5yZ0aBcDeFgHiJkL"
OTHER_KEY = "bsk_test_" + "QrStUvWx" + "7mNbVcXzLkJhGfDsA1s2D3f4G5h6J7k8"
JWT = ("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c3JfYWxpY2UifQ."
       "c2lnbmF0dXJlLW9mLWFsaWNlLXRoYXQtaXMtbG9uZ2VyLXRoYW4tNjQtYnl0ZXMtb2Y")
OTHER_JWT = ("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c3JfYm9iIn0."
             "c2lnbmF0dXJlLW9mLWJvYi10aGF0LWlzLWxvbmdlci10aGFuLTY0LWJ5dGVzLW9mLWI")
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _by_label(value: str, kind: str, **others: str) -> dict[str, str]:
    return {miss.label: miss.value for miss in near_misses(value, kind, others=others)}


def test_every_row_has_a_function_and_every_function_a_row():
    assert {row.name for row in TABLE} == set(TRANSFORMS)
    assert all(set(row.kinds) <= set(KINDS) for row in TABLE)


@pytest.mark.parametrize("kind", KINDS)
def test_members_differ_from_the_value_and_from_each_other(kind):
    value = {"api-key": KEY, "password": "correct horse battery staple", "access-token": JWT,
             "refresh-token": "rt_" + "x9Yz" * 10, "totp-code": "012345"}[kind]
    other = {"api-key": OTHER_KEY, "access-token": OTHER_JWT}.get(kind, "another value 123456")
    family = near_misses(value, kind, others={"other-account": other, "totp-secret": SECRET, "now": "1800000000"})
    values = [miss.value for miss in family]
    assert value not in values
    assert len(values) == len(set(values))
    assert len(family) >= 10
    assert near_misses(value, kind, others={"other-account": other}) == near_misses(
        value, kind, others={"other-account": other})  # no randomness


def test_an_api_key_family_changes_case_prefix_environment_and_length():
    family = _by_label(KEY, "api-key", **{"other-account": OTHER_KEY})
    assert family["upper-cased-prefix"] == "BSK_TEST_" + KEY[9:]
    assert family["other-environment-prefix"] == "bsk_live_" + KEY[9:]
    assert family["case-of-first-letter"] == "bsk_test_a" + KEY[10:]  # the secret's first letter, not the prefix's
    assert family["truncated-by-one"] == KEY[:-1]
    assert family["extended-by-one"] == KEY + "A"
    assert family["percent-encoded-character"] == "bsk%5Ftest_" + KEY[9:]
    half = 9 + (len(KEY) - 9) // 2  # half of the secret, after the prefix both keys share
    assert family["spliced-with-other-account"] == KEY[:half] + OTHER_KEY[half:]
    assert "\uff10" in family["fullwidth-digits"] and family["fullwidth-digits"].startswith("bsk_test_")
    assert "other-account" not in family  # the other account's key is valid on its own: not a near-miss


def test_header_flags_leave_out_what_http_strips():
    headers = {m.label for m in near_misses(KEY, "api-key") if m.in_headers}
    assert {"leading-space", "trailing-space", "leading-tab", "trailing-tab", "trailing-newline"}.isdisjoint(headers)
    assert "inner-space" in headers


def test_a_jwt_family_swaps_segments_with_the_other_account_and_pads_the_signature():
    family = _by_label(JWT, "access-token", **{"other-account": OTHER_JWT})
    header, payload, signature = JWT.split(".")
    assert family["payload-of-other-account"] == f"{header}.{OTHER_JWT.split('.')[1]}.{signature}"
    assert family["signature-of-other-account"] == f"{header}.{payload}.{OTHER_JWT.split('.')[2]}"
    assert family["padded-signature"] == JWT + "=" * (-len(signature) % 4)
    assert family["percent-encoded-character"].count("%2E") == 1
    levels = {m.label: m.level for m in near_misses(JWT, "access-token")}
    assert levels["padded-signature"] == "SHOULD" and levels["truncated-by-one"] == "MUST"


def test_an_opaque_refresh_token_gets_no_jwt_members():
    token, other = "rt_" + "x9Yz" * 10, "rt_" + "Ab12" * 10
    family = _by_label(token, "refresh-token", **{"other-account": other})
    assert not {"payload-of-other-account", "signature-of-other-account", "padded-signature"} & set(family)
    half = len(token) // 2
    assert family["spliced-with-other-account"] == token[:half] + other[half:]


def test_a_totp_code_family_holds_what_a_numeric_comparison_accepts():
    family = _by_label("012345", "totp-code", **{"other-account": "654321", "totp-secret": SECRET,
                                                  "now": "1800000000"})
    numeric = ["leading-zero-added", "leading-zero-dropped", "plus-signed", "digit-group-separator",
               "fullwidth-digits", "leading-space", "trailing-newline"]
    for label in numeric:
        assert int(family[label]) == int("012345"), label  # each one is what int() takes for the code
    assert family["other-account"] == "654321"
    step = 1_800_000_000 // 30
    assert family["step-two-behind"] == pyotp.TOTP(SECRET).generate_otp(step - 2)
    assert family["step-two-ahead"] == pyotp.TOTP(SECRET).generate_otp(step + 2)
    assert "leading-zero-dropped" not in _by_label("123456", "totp-code")
    assert "upper-cased" not in family  # digits have no case: dropped, not sent twice


def test_a_password_family_has_no_nfkc_equivalent_member():
    password = "correct horse battery staple"
    family = _by_label(password, "password", **{"other-account": "another long passphrase"})
    assert family["trailing-space"] == password + " "
    assert family["percent-encoded-character"] == "correct%20horse battery staple"
    assert family["other-account"] == "another long passphrase"
    assert "fullwidth-digits" not in family
    for value in family.values():  # NIST SP 800-63B lets a verifier normalise: none may normalise back
        assert unicodedata.normalize("NFKC", value) != password


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown credential kind"):
        near_misses("x", "cookie")
