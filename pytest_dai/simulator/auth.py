"""The token endpoints of the DAI simulator (contract section 1).

- Keycloak's ``POST /auth/realms/{realm}/protocol/openid-connect/token`` (client credentials,
  in the form or by HTTP Basic), answering Keycloak's error forms.
- The second scheme of newer servers (seen on DAI 26.2.2): ``POST {url}/api/v2/auth`` with
  ``{"client_id": ..., "client_secret": ...}`` as JSON answers ``{"access_token": ...,
  "expires_in": ..., "token_type": "bearer"}``; 422 for a body that is not the two strings,
  401 ``{"message": ...}`` for wrong credentials.

Both issue the same tokens for the same API Access pair, count toward ``token_requests`` and
answer 403 when the ``licence_exhausted`` fault is set.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote_plus

from pytest_dai.simulator.answers import detail, extra, format_seconds, json_response

if TYPE_CHECKING:
    from pytest_dai.simulator.answers import Response
    from pytest_dai.simulator.state import SimState

__all__ = ["TOKEN_RE", "V2_AUTH_PATH", "keycloak_token", "v2_token"]

V2_AUTH_PATH = "/api/v2/auth"
TOKEN_RE = re.compile(r"^/auth/realms/([^/]+)/protocol/openid-connect/token$")


def _keycloak_error(status: int, error: str, description: str) -> Response:
    return json_response(status, {"error": error, "error_description": description})


def _basic_credentials(authorization: str | None) -> list[tuple[str, str]]:
    """Client id and secret from HTTP Basic auth: the ways to split them at a colon.

    RFC 6749 has the client form-encode both (a colon in the id becomes ``%3A``); clients that
    do not are tolerated by also trying the last colon.
    """
    if not authorization:
        return []
    parts = authorization.split(None, 1)
    if len(parts) != 2 or parts[0].lower() != "basic":
        return []
    try:
        decoded = base64.b64decode(parts[1].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return []
    splits = []
    for client_id, sep, secret in (decoded.partition(":"), decoded.rpartition(":")):
        if sep:
            splits.append((unquote_plus(client_id), unquote_plus(secret)))
    return splits


def _credentials_form(state: SimState, raw: bytes, authorization: str | None) -> dict[str, str]:
    """The token request's form, with the client's pair taken from Basic auth if sent so."""
    form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    splits = _basic_credentials(authorization)
    if splits and "client_id" not in form and "client_secret" not in form:
        expected = (state.scenario.client_id, state.scenario.client_secret)
        form["client_id"], form["client_secret"] = next(
            (split for split in splits if split == expected), splits[0]
        )
    return form


def _issue(state: SimState) -> tuple[str, float]:
    """A new token and its lifetime (the ``token_lifetime`` fault, else the scenario's)."""
    with state.lock:
        lifetime = state.faults.token_lifetime or state.scenario.token_lifetime
        return state.engine.issue_token(time.time(), lifetime), lifetime


def _count(state: SimState) -> bool:
    """Count a token request; whether the licences are exhausted (a fault)."""
    with state.lock:
        state.engine.token_requests += 1
        return state.faults.licence_exhausted


def keycloak_token(state: SimState, realm: str, raw: bytes, authorization: str | None) -> Response:
    """Answer a request to the Keycloak token endpoint of ``realm``."""
    exhausted = _count(state)
    if realm != state.scenario.realm:
        return json_response(404, {"error": "Realm does not exist"})
    form = _credentials_form(state, raw, authorization)
    for name in ("grant_type", "client_id", "client_secret"):
        if not form.get(name):
            return _keycloak_error(400, "invalid_request", f"Missing form parameter: {name}")
    if form["grant_type"] != "client_credentials":
        return _keycloak_error(400, "unsupported_grant_type", "Unsupported grant_type")
    pair = (form["client_id"], form["client_secret"])
    if pair != (state.scenario.client_id, state.scenario.client_secret):
        return _keycloak_error(
            401, "unauthorized_client", "Invalid client or Invalid client credentials"
        )
    if exhausted:
        return _keycloak_error(
            403, "access_denied", "Not enough available concurrent user licenses"
        )
    token, lifetime = _issue(state)
    payload: dict[str, Any] = {
        "access_token": token,
        "expires_in": format_seconds(lifetime),
        "refresh_expires_in": 0,
        "token_type": "Bearer",
        "not-before-policy": 0,
        "session_state": str(uuid.uuid4()),
        "scope": "profile email",
    }
    headers = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
    return json_response(200, extra(payload, state.dialect), headers)


def v2_token(state: SimState, method: str, raw: bytes) -> Response:
    """Answer one request to :data:`V2_AUTH_PATH`."""
    if method != "POST":
        return detail(405, "Method Not Allowed", [("Allow", "POST")])
    exhausted = _count(state)
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
        return detail(422, errors)
    assert isinstance(body, dict)
    if (body["client_id"], body["client_secret"]) != (
        state.scenario.client_id,
        state.scenario.client_secret,
    ):
        return json_response(401, {"message": "Invalid client credentials"})
    if exhausted:
        return json_response(403, {"message": "Not enough available concurrent user licenses"})
    token, lifetime = _issue(state)
    payload = {
        "access_token": token,
        "expires_in": format_seconds(lifetime),
        "token_type": "bearer",
    }
    return json_response(200, payload, [("Cache-Control", "no-store")])
