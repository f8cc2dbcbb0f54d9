"""The token endpoint (contract section 1) and bearer checks on every other endpoint."""

from __future__ import annotations

import base64
import time
from urllib.parse import quote_plus

import pytest
import requests

EXECUTIONS = "/execution_service/api/v1/executions"


def _form(sim, **changes):
    data = {
        "grant_type": "client_credentials",
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_token_success(sim) -> None:
    assert sim.token_url == f"{sim.url}/auth/realms/testrealm/protocol/openid-connect/token"
    response = requests.post(sim.token_url, data=_form(sim), timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] == 300
    assert body["token_type"] == "Bearer"
    assert body["refresh_expires_in"] == 0
    assert body["not-before-policy"] == 0
    assert {"session_state", "scope", "access_token"} <= body.keys()
    assert sim.issued_tokens() == [body["access_token"]]
    assert sim.token_requests() == 1


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "unauthorized_client"),
        ({"client_id": "someone-else"}, 401, "unauthorized_client"),
        ({"client_secret": None}, 400, "invalid_request"),
        ({"client_id": None}, 400, "invalid_request"),
        ({"grant_type": None}, 400, "invalid_request"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
def test_token_errors(sim, changes, status, error) -> None:
    response = requests.post(sim.token_url, data=_form(sim, **changes), timeout=5)
    assert response.status_code == status
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]
    assert sim.issued_tokens() == []


def test_token_bad_credentials_message(sim) -> None:
    response = requests.post(sim.token_url, data=_form(sim, client_secret="x"), timeout=5)
    assert response.json() == {
        "error": "unauthorized_client",
        "error_description": "Invalid client or Invalid client credentials",
    }


@pytest.mark.parametrize("encode", [True, False])
def test_token_basic_auth(sim, encode) -> None:
    client_id = quote_plus(sim.client_id) if encode else sim.client_id
    basic = base64.b64encode(f"{client_id}:{sim.client_secret}".encode()).decode()
    response = requests.post(
        sim.token_url,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=5,
    )
    assert response.status_code == 200


def test_token_unknown_realm_and_method(sim) -> None:
    other = sim.token_url.replace("/testrealm/", "/other/")
    assert requests.post(other, data=_form(sim), timeout=5).status_code == 404
    response = requests.get(sim.token_url, timeout=5)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_licence_exhausted(sim) -> None:
    sim.set_faults(licence_exhausted=True)
    response = requests.post(sim.token_url, data=_form(sim), timeout=5)
    assert response.status_code == 403
    assert response.json()["error_description"] == "Not enough available concurrent user licenses"
    sim.set_faults(licence_exhausted=False)
    assert requests.post(sim.token_url, data=_form(sim), timeout=5).status_code == 200


@pytest.mark.parametrize("path", ["/ai/runs", "/ai/agents", "/ai/models", "/ai/runlogs/1"])
def test_missing_or_bad_token_is_401(sim, path) -> None:
    response = requests.get(sim.url + path, timeout=5)
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"
    response = requests.get(sim.url + path, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token"}


def test_start_and_abort_need_a_token(sim) -> None:
    body = {"execution_type": "executing", "model_id": "m-quick"}
    assert requests.post(sim.url + EXECUTIONS, json=body, timeout=5).status_code == 401
    assert requests.delete(sim.url + EXECUTIONS + "/x", timeout=5).status_code == 401
    assert sim.executions() == []


def test_token_expires(sim, api) -> None:
    sim.set_faults(token_lifetime=0.3)
    token = api.refresh()
    response = requests.post(sim.token_url, data=_form(sim), timeout=5)
    assert response.json()["expires_in"] == 0.3
    assert api.get("/ai/models").status_code == 200
    time.sleep(0.35)
    response = api.get("/ai/models")
    assert response.status_code == 401
    assert response.json() == {"detail": "Token has expired"}
    sim.set_faults(token_lifetime=None)
    assert api.refresh() != token
    assert api.get("/ai/models").status_code == 200
    assert sim.token_requests() == 4  # the api fixture took one too


def test_scenario_token_lifetime(start_sim, scenario_data, make_api) -> None:
    sim = start_sim(scenario_data(token_lifetime=0.25))
    api = make_api(sim)
    assert api.get("/ai/agents").status_code == 200
    time.sleep(0.3)
    assert api.get("/ai/agents").status_code == 401


def test_expire_tokens(sim, api) -> None:
    assert api.get("/ai/agents").status_code == 200
    sim.expire_tokens()
    assert api.get("/ai/agents").status_code == 401
    api.refresh()
    assert api.get("/ai/agents").status_code == 200
    assert len(sim.issued_tokens()) == 2
