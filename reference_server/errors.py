"""The errors the API answers with, and the part that renders them.

Every error is an :class:`ApiError` raised anywhere in the server and turned
into a response in one place, :class:`ErrorResponder`, so the wire rules of
contract §2 (a JSON body with ``error`` and ``message``, ``WWW-Authenticate``
on every 401, ``Retry-After`` on every 429) hold for every path at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse

REALM = "bsk"


@dataclass(eq=False)
class ApiError(Exception):
    """An answer other than success: status, machine code, human message."""

    status: int
    code: str
    message: str
    #: Extra body fields, e.g. ``requiredScope`` on ``insufficient_scope``.
    extra: dict[str, Any] = field(default_factory=dict)
    #: A bearer token was presented and refused: RFC 6750 ``error="invalid_token"``.
    token_rejected: bool = False
    #: Seconds until a retry can succeed (429s).
    retry_after: int | None = None
    #: Further response headers (e.g. ``Allow`` on a 405).
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


# -- the catalogue of errors -------------------------------------------------


def invalid_request(message: str) -> ApiError:
    return ApiError(400, "invalid_request", message)


def authentication_required() -> ApiError:
    return ApiError(
        401,
        "authentication_required",
        "Send an access token in 'Authorization: Bearer <token>' or a key in 'X-API-Key'.",
    )


def invalid_token(message: str = "The access token is invalid or expired.") -> ApiError:
    return ApiError(401, "invalid_token", message, token_rejected=True)


def invalid_refresh_token() -> ApiError:
    return ApiError(
        401,
        "invalid_token",
        "The refresh token is invalid, expired, revoked or already used.",
        token_rejected=True,
    )


def invalid_api_key() -> ApiError:
    return ApiError(401, "invalid_api_key", "The API key is invalid, expired or revoked.")


def invalid_credentials() -> ApiError:
    return ApiError(401, "invalid_credentials", "The email or password is incorrect.")


def two_factor_required() -> ApiError:
    return ApiError(
        401, "two_factor_required", "Two-factor verification is required: send 'twoFactorCode'."
    )


def invalid_two_factor_code(status: int = 401) -> ApiError:
    return ApiError(status, "invalid_two_factor_code", "The two-factor code is wrong or was already used.")


def insufficient_scope(scope: str) -> ApiError:
    return ApiError(
        403,
        "insufficient_scope",
        f"This API key lacks the '{scope}' scope.",
        extra={"requiredScope": scope},
    )


def user_token_required() -> ApiError:
    return ApiError(
        403, "user_token_required", "This endpoint needs a user's access token; API keys cannot use it."
    )


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "not_found", f"No such {what}.")


def method_not_allowed(allow: str | None = None) -> ApiError:
    headers = {"Allow": allow} if allow else {}
    return ApiError(405, "method_not_allowed", "This method is not allowed on this path.", headers=headers)


def conflict(code: str, message: str) -> ApiError:
    return ApiError(409, code, message)


def rate_limited(retry_after: int) -> ApiError:
    return ApiError(
        429, "rate_limited", "This API key has used its requests for the minute.", retry_after=retry_after
    )


def too_many_attempts(retry_after: int) -> ApiError:
    return ApiError(
        429, "too_many_attempts", "Too many failed logins for this account; try again later.",
        retry_after=retry_after,
    )


def internal_error() -> ApiError:
    return ApiError(500, "internal_error", "The server failed to answer this request.")


# -- the part ----------------------------------------------------------------


class ErrorResponder:
    """Builds the HTTP response for an :class:`ApiError`.

    Each wire rule is one method, so a faulty variant can drop exactly one
    (``www_authenticate`` returning ``None``, ``retry_after`` returning
    ``None``, ``status`` answering 403 for ``two_factor_required``, ...).
    """

    def render(self, error: ApiError) -> JSONResponse:
        return JSONResponse(self.body(error), status_code=self.status(error), headers=self.headers(error))

    def status(self, error: ApiError) -> int:
        return error.status

    def body(self, error: ApiError) -> dict[str, Any]:
        return {**error.extra, "error": error.code, "message": error.message}

    def headers(self, error: ApiError) -> dict[str, str]:
        # Errors are about one caller's credentials: never worth caching.
        headers = {**error.headers, "Cache-Control": "no-store"}
        challenge = self.www_authenticate(error)
        if challenge is not None:
            headers["WWW-Authenticate"] = challenge
        retry = self.retry_after(error)
        if retry is not None:
            headers["Retry-After"] = retry
        return headers

    def www_authenticate(self, error: ApiError) -> str | None:
        """RFC 6750 §3: a challenge on every 401, naming ``invalid_token`` when one was refused."""
        if self.status(error) != 401:
            return None
        if error.token_rejected:
            return f'Bearer realm="{REALM}", error="invalid_token"'
        return f'Bearer realm="{REALM}"'

    def retry_after(self, error: ApiError) -> str | None:
        """Whole seconds, at least 1, on every 429 (RFC 9110 §10.2.3)."""
        if error.retry_after is None:
            return None
        return str(max(1, int(error.retry_after)))
