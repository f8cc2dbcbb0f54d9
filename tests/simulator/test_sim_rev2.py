"""Simulator items of contract revision 2: v2 auth, the start body's script / rerun without a
model / integer step_pause_time, and agents created (never listed) by POST."""

from __future__ import annotations

import requests

from pytest_dai.simulator import DAISimulator

EXECUTIONS = "/execution_service/api/v1/executions"


def test_v2_auth(sim: DAISimulator) -> None:
    url = sim.v2_auth_url
    ok = requests.post(
        url, json={"client_id": sim.client_id, "client_secret": sim.client_secret}, timeout=5
    )
    assert ok.status_code == 200
    token = ok.json()["access_token"]
    assert ok.json()["expires_in"] > 0
    models = requests.get(
        sim.url + "/ai/models", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert models.status_code == 200
    wrong = requests.post(url, json={"client_id": sim.client_id, "client_secret": "x"}, timeout=5)
    assert (wrong.status_code, wrong.json()) == (401, {"message": "Invalid client credentials"})
    form = requests.post(url, data={"client_id": sim.client_id}, timeout=5)
    assert form.status_code == 422
    assert requests.get(url, timeout=5).status_code == 405


def test_start_body_of_revision_2(sim: DAISimulator, api) -> None:
    earlier = api.wait_final(api.start("m-quick", agent="a1"))
    rerun = api.post(EXECUTIONS, json={"execution_type": "executing", "rerun_id": earlier["id"]})
    assert rerun.status_code == 201
    assert sim.execution(rerun.json()["id"])["model_id"] == "m-quick"
    script = api.post(EXECUTIONS, json={"execution_type": "executing", "script": "TC/Login"})
    assert script.status_code == 201
    assert sim.execution(script.json()["id"])["model_name"] == "TC/Login"
    none = api.post(EXECUTIONS, json={"execution_type": "executing"})
    assert none.status_code == 422
    half = api.post(
        EXECUTIONS,
        json={"execution_type": "executing", "model_id": "m-quick", "step_pause_time": 1.5},
    )
    assert half.status_code == 422
    assert half.json()["detail"][0]["type"] == "int_from_float"
    asset = api.post(
        EXECUTIONS,
        json={"execution_type": "executing", "model_id": "m-quick", "asset": {"asset_path": 3}},
    )
    assert asset.status_code == 422
