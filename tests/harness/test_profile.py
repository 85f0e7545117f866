"""Target profiles (contract §7): one clear line per problem."""

from pathlib import Path

import pytest

from bsk_conformance.harness.profile import ProfileError, load_profile

GOOD = """
environment = "test"
[[accounts]]
email = "alice@acme.test"
password = "pw-one"
[[accounts]]
email = "bob@globex.test"
password = "pw-two"
totpSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.toml"
    path.write_text(text)
    return path


def test_a_valid_profile_loads(tmp_path):
    profile = load_profile(write(tmp_path, GOOD))
    assert profile.environment == "test" and len(profile.accounts) == 2
    assert profile.accounts[1].totp_secret and profile.digest.startswith("sha256:")
    assert profile.key_prefix == "bsk_test_" and profile.other_key_prefix == "bsk_live_"


def test_password_never_appears_in_an_account_repr(tmp_path):
    profile = load_profile(write(tmp_path, GOOD))
    assert "pw-one" not in repr(profile.accounts[0]) and "pw-one" not in repr(profile)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace('"test"', '"staging"'), 'environment must be "test" or "live"'),
        ('environment = "test"\n', "no [[accounts]]"),
        (GOOD.split('[[accounts]]\nemail = "bob')[0], "only one [[accounts]]"),
        (GOOD.replace('password = "pw-one"\n', ""), "accounts[1]: 'password' must be a non-empty string"),
        (GOOD.replace("alice@acme.test", "alice"), "accounts[1]: 'email' must be an email address"),
        (GOOD.replace("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "not base32!"), "accounts[2]: 'totpSecret'"),
        (GOOD + "\nextra = 1\n", "unknown key 'extra'"),
        (GOOD.replace("bob@globex.test", "alice@acme.test"), "the same email appears twice"),
        ("environment = [", "not valid TOML"),
    ],
)
def test_profile_problems_are_one_clear_line_each(tmp_path, text, message):
    with pytest.raises(ProfileError) as caught:
        load_profile(write(tmp_path, text))
    assert message in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ProfileError, match="cannot read the profile"):
        load_profile(tmp_path / "absent.toml")


def test_passwords_are_not_echoed_in_profile_errors(tmp_path):
    with pytest.raises(ProfileError) as caught:
        load_profile(write(tmp_path, GOOD.replace('"test"', '"prod"')))
    assert "pw-one" not in str(caught.value)
