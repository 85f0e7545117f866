"""Faults in comparing credentials: values close to the right one accepted
(issue 22, class 3; contract §3, §4). Each is a comparison vendors really get
wrong: a case-insensitive column, a fixed-width column, a trim, a number
instead of a string, a lenient base64 decoder, a URL-decoding gateway."""

from __future__ import annotations

import hashlib
from urllib.parse import unquote

from bsk_conformance.reference_server.accounts import Accounts
from bsk_conformance.reference_server.keys import ApiKeys
from bsk_conformance.reference_server.principals import CredentialReader, Credentials
from bsk_conformance.reference_server.tokens import TokenService
from bsk_conformance.reference_server.two_factor import VALID_WINDOW, TwoFactor
from tests.faulty.variant import Variant, swap

# -- API keys --------------------------------------------------------------------


class KeysMatchedCaseInsensitively(ApiKeys):
    """The digest column is compared under a case-insensitive collation (MySQL's
    default): a key is found whatever the case of its letters."""

    def digest(self, key: str) -> str:
        return super().digest(key.lower())


class KeysComparedOnFirst32Characters(ApiKeys):
    """The key is stored in a column 32 secret characters wide: what a client
    sends beyond them, or short of the 40th, is never compared."""

    def digest(self, key: str) -> str:
        return hashlib.sha256(key[: len(self.key_prefix()) + 32].encode("utf-8", "surrogatepass")).hexdigest()


# -- access tokens ----------------------------------------------------------------------


class PaddedSignatureAccepted(TokenService):
    """The JOSE library's lenient base64url decoding: '=' padding after a
    segment decodes to the same bytes, so a padded copy of a token verifies."""

    def check_encoding(self, token: str) -> None:
        return None


class BearerPercentDecoded(CredentialReader):
    """A gateway URL-decodes header values before the API sees them: %2E in a
    token is a dot again."""

    def read(self, request) -> Credentials:
        found = super().read(request)
        if found.bearer is None:
            return found
        return Credentials(bearer=unquote(found.bearer), api_key=found.api_key)


# -- passwords and TOTP codes -----------------------------------------------------------


class PasswordTrimmed(Accounts):
    """The login form's framework trims every field: "pw " logs in as "pw"."""

    def authenticate(self, email: str, password: str):
        return super().authenticate(email, password.strip())


class CodeReadAsANumber(TwoFactor):
    """The code is compared as an integer: int() takes " 012345\\n", "+12345",
    "12_345", "0012345" and fullwidth digits for the same number."""

    def matching_step(self, secret: str, code: str, now: float) -> int | None:
        try:
            number = int(code)
        except ValueError:
            return None
        totp = self.totp(secret)
        current = int(now // 30)
        for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
            if int(totp.generate_otp(step)) == number:
                return step
        return None


# -- refresh tokens ---------------------------------------------------------------------


class RefreshTokenTrimmed(TokenService):
    """The refresh token is trimmed before it is looked up."""

    def find_refresh(self, refresh_token: str):
        return super().find_refresh(refresh_token.strip())


def _keys(cls):
    return swap("keys", lambda p: cls(p.store, p.clock, p.settings.environment))


def _tokens(cls):
    return swap("tokens", lambda p: cls(p.store, p.clock))


VARIANTS = [
    Variant(
        name="api_key_matched_case_insensitively",
        breaks="unknown keys: 401 invalid_api_key (a key with its letters' case changed is another, unknown key)",
        trips=("BSK-NEAR-001",),
        factory=_keys(KeysMatchedCaseInsensitively),
    ),
    Variant(
        name="api_key_compared_on_its_first_32_characters",
        breaks="unknown keys: 401 invalid_api_key (a key cut by one, or extended, is not the key)",
        trips=("BSK-NEAR-001",),
        factory=_keys(KeysComparedOnFirst32Characters),
    ),
    Variant(
        name="bearer_token_percent_decoded",
        breaks="altered tokens are rejected (a token with a character percent-encoded is not the token)",
        trips=("BSK-NEAR-002",),
        factory=swap("credentials", lambda p: BearerPercentDecoded()),
    ),
    Variant(
        name="jwt_signature_padding_accepted",
        breaks="a compact JWS is BASE64URL without padding (RFC 7515 §2): '=' after the signature is refused",
        trips=("BSK-NEAR-003",),
        factory=_tokens(PaddedSignatureAccepted),
    ),
    Variant(
        name="password_trimmed_before_comparison",
        breaks="401 invalid_credentials for a wrong password (the right one with a space after it)",
        trips=("BSK-NEAR-004",),
        factory=swap("accounts", lambda p: PasswordTrimmed(p.store, p.accounts.passwords)),
    ),
    Variant(
        name="totp_code_compared_as_a_number",
        breaks="401 invalid_two_factor_code for a wrong code (a current code with a leading zero added, a sign, "
               "whitespace, fullwidth digits)",
        trips=("BSK-NEAR-005",),
        factory=swap("two_factor", lambda p: CodeReadAsANumber(p.store, p.clock)),
        blast={
            "BSK-TFA-008": "malformed codes (\"1234567\"?) are read as numbers too: the same comparison, asked "
                           "with other values",
        },
    ),
    Variant(
        name="refresh_token_trimmed_before_lookup",
        breaks="401 invalid_token for malformed refresh tokens (a valid one with whitespace around it)",
        trips=("BSK-NEAR-006",),
        factory=_tokens(RefreshTokenTrimmed),
    ),
]
