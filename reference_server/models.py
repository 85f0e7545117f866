"""The request bodies of contract §3, validated strictly.

Strict mode: a mistyped field is an error (``"60"`` is not an integer,
``true`` is not a number), as contract §8 reads "missing or mistyped fields
anywhere are 400". Unknown fields are ignored (extra fields are latitude).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Scope = Literal["organization:read", "projects:read", "projects:write"]


class RequestBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class LoginBody(RequestBody):
    email: Annotated[str, Field(max_length=320)]
    password: Annotated[str, Field(max_length=1024)]
    twoFactorCode: Annotated[str, Field(max_length=64)] | None = None


class RefreshBody(RequestBody):
    refreshToken: Annotated[str, Field(max_length=1024)]


class CodeBody(RequestBody):
    code: Annotated[str, Field(max_length=64)]


class CreateApiKeyBody(RequestBody):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    scopes: list[Scope]
    rateLimit: Annotated[int, Field(ge=1, le=10_000)] = 60
    #: RFC 3339, checked (and required to be in the future) by the route.
    expiresAt: Annotated[str, Field(max_length=64)] | None = None


class CreateProjectBody(RequestBody):
    name: Annotated[str, Field(min_length=1, max_length=200)]


class AdvanceClockBody(RequestBody):
    advanceSeconds: Annotated[float, Field(ge=0, allow_inf_nan=False)]
