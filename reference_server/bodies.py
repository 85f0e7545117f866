"""Reading and validating request bodies: malformed input is 400, never 5xx.

Every failure (too large, not UTF-8, not JSON, not an object, a missing or
mistyped field) becomes 400 ``invalid_request`` with a message naming the
problem, replacing FastAPI's 422. Messages name fields, never echo values:
a body may hold a password.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import ValidationError
from starlette.requests import Request

from . import errors
from .models import RequestBody

Model = TypeVar("Model", bound=RequestBody)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class BodyParser:
    """The three steps from bytes to a validated body, each replaceable."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    async def parse(self, request: Request, model: type[Model]) -> Model:
        return self.validate(self.decode(await self.read(request)), model)

    async def read(self, request: Request) -> bytes:
        """The raw body, refusing (before reading it all) anything over ``max_bytes``."""
        too_large = errors.invalid_request(f"The request body exceeds {self.max_bytes} bytes.")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_bytes:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    def decode(self, raw: bytes) -> Any:
        """UTF-8 JSON, strictly: no BOM, no NaN/Infinity, no lone surrogates."""
        if not raw.strip():
            raise errors.invalid_request("The request body is empty; send a JSON object.")
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
            # "\ud800" is valid JSON but no valid string: refuse it here rather
            # than fail later when hashing or storing it.
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except (ValueError, RecursionError):
            raise errors.invalid_request("The request body is not valid UTF-8 JSON.") from None
        return data

    def validate(self, data: Any, model: type[Model]) -> Model:
        if not isinstance(data, dict):
            raise errors.invalid_request("The request body must be a JSON object.")
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            field = ".".join(str(part) for part in first["loc"]) or "body"
            raise errors.invalid_request(f"{field}: {first['msg']}") from None
