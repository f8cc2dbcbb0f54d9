"""The second token scheme of newer DAI servers (seen on DAI 26.2.2, contract section 1):
``POST {url}/api/v2/auth`` with ``{"client_id": ..., "client_secret": ...}`` as JSON answers
``{"access_token": ..., "expires_in": ..., "token_type": "bearer"}``.

The same API Access pair and the same tokens as the Keycloak endpoint; errors in FastAPI's
forms (422 for a body that is not the two strings, 401 ``{"message": ...}`` for wrong
credentials) and 403 when no licence is free.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_dai.simulator.server import DAISimulator, _Response

__all__ = ["V2_AUTH_PATH", "v2_token"]

V2_AUTH_PATH = "/api/v2/auth"


def v2_token(sim: DAISimulator, method: str, raw: bytes) -> _Response:
    """Answer one request to :data:`V2_AUTH_PATH`."""
    from pytest_dai.simulator.server import _detail, _format_seconds, _json_response

    if method != "POST":
        return _detail(405, "Method Not Allowed", [("Allow", "POST")])
    with sim._lock:
        sim._engine.token_requests += 1
        faults = sim._faults
    try:
        body: Any = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = None
    errors = [
        {"type": "missing", "loc": ["body", name], "msg": "Field required", "input": body}
        for name in ("client_id", "client_secret")
        if not isinstance(body, dict) or not isinstance(body.get(name), str)
    ]
    if errors:
        return _detail(422, errors)
    assert isinstance(body, dict)
    if (body["client_id"], body["client_secret"]) != (sim.client_id, sim.client_secret):
        return _json_response(401, {"message": "Invalid client credentials"})
    if faults.licence_exhausted:
        return _json_response(403, {"message": "Not enough available concurrent user licenses"})
    lifetime = faults.token_lifetime or sim.scenario.token_lifetime
    with sim._lock:
        token = sim._engine.issue_token(time.time(), lifetime)
    payload = {
        "access_token": token,
        "expires_in": _format_seconds(lifetime),
        "token_type": "bearer",
    }
    return _json_response(200, payload, [("Cache-Control", "no-store")])
