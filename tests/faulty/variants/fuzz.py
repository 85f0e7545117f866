"""Faults that schema fuzzing finds (contract §2, §3): a 5xx on malformed
input, an undocumented status, a body outside its schema, a key that the
link chain login → create key → use key cannot use."""

from __future__ import annotations

from bsk_conformance.reference_server import errors
from bsk_conformance.reference_server.bodies import BodyParser
from bsk_conformance.reference_server.errors import ErrorResponder
from bsk_conformance.reference_server.keys import ApiKeys
from tests.faulty.variant import Variant, swap


class UnknownFieldCrashes(BodyParser):
    """Looks every field of the body up in the model: a field it does not know
    (which §8 allows) raises KeyError, a 500."""

    def validate(self, data, model):
        if isinstance(data, dict):
            for name in data:
                model.model_fields[name]
        return super().validate(data, model)


class ValidationErrorsAre422(ErrorResponder):
    """The framework's default for validation errors, which the contract does not document."""

    def status(self, error) -> int:
        return 422 if error.code == "invalid_request" else super().status(error)


class NotFoundInFrameworkShape(ErrorResponder):
    """404 answered as {"detail": ...}, without the contract's error and message."""

    def body(self, error):
        if self.status(error) == 404:
            return {"detail": error.message}
        return super().body(error)


class CreatedKeysNeverAuthenticate(ApiKeys):
    def authenticate(self, presented: str):
        raise errors.invalid_api_key()


VARIANTS = [
    Variant(
        name="fuzz_unknown_body_field_is_500",
        breaks="malformed request bodies get 400 invalid_request, never 5xx (and extra fields are allowed)",
        trips=("BSK-FUZZ-001",),
        blast={
            "BSK-FUZZ-002": "a 500 is no status documented for any operation",
            "BSK-FUZZ-004": "the stateful run's generated key bodies carry unknown fields too",
        },
        factory=swap("bodies", lambda p: UnknownFieldCrashes(p.bodies.max_bytes)),
    ),
    Variant(
        name="fuzz_validation_error_is_422",
        breaks="malformed or mistyped bodies are 400 invalid_request (an undocumented status instead)",
        trips=("BSK-FUZZ-002",),
        blast={"BSK-FUZZ-004": "the stateful run meets a 422 too where a generated key body is refused"},
        factory=swap("errors", lambda p: ValidationErrorsAre422()),
    ),
    Variant(
        name="fuzz_not_found_without_error_body",
        breaks='every error body has "error" and "message" (a 404 outside its documented schema)',
        trips=("BSK-FUZZ-003",),
        blast={"BSK-FUZZ-004": "the stateful run meets a 404 too, for a key it revoked"},
        factory=swap("errors", lambda p: NotFoundInFrameworkShape()),
    ),
    Variant(
        name="fuzz_created_keys_never_authenticate",
        breaks="API key usage: X-API-Key with the key POST /api-keys returned",
        trips=("BSK-FUZZ-004",),
        factory=swap("keys", lambda p: CreatedKeysNeverAuthenticate(p.store, p.clock, p.settings.environment)),
    ),
]
