"""Token pairs a check was answered with but did not ask to keep."""

from __future__ import annotations

import httpx


def log_out_answer(target, response: httpx.Response) -> None:
    """Log out the pair of a login or refresh answer. Best effort: a login the
    target should have refused still made a session, which the check ends."""
    try:
        body = response.json()
        target.post("/auth/logout", bearer=body["accessToken"], json={"refreshToken": body["refreshToken"]})
    except (ValueError, KeyError, TypeError):
        pass
