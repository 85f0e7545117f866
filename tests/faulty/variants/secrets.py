"""Faults in secret hygiene (contract §1, §4): credentials read from the query
string, echoed in answers, kept in plaintext, written to the log."""

from __future__ import annotations

import json
import logging
from typing import Any

from bsk_conformance.reference_server import errors
from bsk_conformance.reference_server.bodies import BodyParser
from bsk_conformance.reference_server.keys import ApiKeys
from bsk_conformance.reference_server.principals import CredentialReader, Credentials
from tests.faulty.variant import Variant, swap


class QueryStringCredentials(CredentialReader):
    """Also reads ?access_token= and ?api_key=, as RFC 6750 §2.3 allows and the contract forbids."""

    def read(self, request) -> Credentials:
        found = super().read(request)
        query = request.query_params
        return Credentials(
            bearer=found.bearer or query.get("access_token"),
            api_key=found.api_key or query.get("api_key"),
        )


class LoggedCredentials(CredentialReader):
    """Logs the credentials of every request (a debugging line left in)."""

    def read(self, request) -> Credentials:
        found = super().read(request)
        if found.bearer or found.api_key:
            logging.getLogger("bsk_conformance.reference_server.principals").warning(
                "credentials: bearer=%s api_key=%s", found.bearer, found.api_key
            )
        return found


class ErrorQuotesTheBody(BodyParser):
    """Quotes the whole request body in the 400 message of a body that fails validation."""

    def validate(self, data: Any, model):
        try:
            return super().validate(data, model)
        except errors.ApiError:
            raise errors.invalid_request(f"Invalid request body: {json.dumps(data)}") from None


class PlaintextKeys(ApiKeys):
    """Stores the key itself where the one-way hash belongs."""

    def digest(self, key: str) -> str:
        return key


VARIANTS = [
    Variant(
        name="secrets_query_string_credentials_accepted",
        breaks="tokens or keys in the query string never authenticate",
        trips=("BSK-SEC-001", "BSK-SEC-002"),
        factory=swap("credentials", lambda p: QueryStringCredentials()),
    ),
    Variant(
        name="secrets_error_message_quotes_the_body",
        breaks="no answer repeats a secret the request carried",
        trips=("BSK-SEC-003",),
        factory=swap("bodies", lambda p: ErrorQuotesTheBody(p.bodies.max_bytes)),
    ),
    Variant(
        name="secrets_api_key_stored_in_plaintext",
        breaks="only the prefix is stored (plus a one-way hash to verify)",
        trips=("BSK-SEC-004",),
        factory=swap("keys", lambda p: PlaintextKeys(p.store, p.clock, p.settings.environment)),
    ),
    Variant(
        name="secrets_credentials_logged",
        breaks="no secret reaches the server's log",
        trips=("BSK-SEC-005",),
        factory=swap("credentials", lambda p: LoggedCredentials()),
    ),
]
