"""OAuth 2.0 client credentials (contract section 1): reuse, refresh, 401 retry, threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from urllib.parse import unquote_plus

import pytest
import responses

from pytest_dai.client.auth import BearerAuth, TokenSource
from pytest_dai.client.credentials import Credentials
from pytest_dai.client.endpoints import DAIClient
from pytest_dai.client.errors import (
    DAIAuthError,
    DAIConnectionError,
    DAIHTTPError,
    DAILicenceError,
    DAIProtocolError,
)
from pytest_dai.client.http import build_session

from .support import (
    BASE,
    CLIENT_ID,
    EXECUTIONS,
    MODELS,
    SECRET,
    TOKEN,
    TOKEN_URL,
    TokenIssuer,
    assert_dai_message,
    assert_no_secret,
    bearer,
    calls,
)

MODEL_LIST = [{"id": "m-1", "name": "Shop checkout"}]


def test_token_request_is_client_credentials_form(
    client: DAIClient, rsps: responses.RequestsMock, issuer: TokenIssuer
) -> None:
    rsps.get(MODELS, json=MODEL_LIST)
    client.list_models()
    (request,) = calls(rsps, "POST", TOKEN_URL)
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = {k: unquote_plus(v) for k, v in issuer.forms[0].items()}
    assert form == {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
    }
    (api_call,) = calls(rsps, "GET", MODELS)
    assert api_call.headers["Authorization"] == f"Bearer {TOKEN}-1"


def test_token_is_reused_across_calls(
    client: DAIClient, rsps: responses.RequestsMock, issuer: TokenIssuer
) -> None:
    rsps.get(MODELS, json=MODEL_LIST)
    for _ in range(10):
        client.list_models()
    assert issuer.issued == 1
    assert client.tokens.requests_made == 1
    assert len(calls(rsps, "GET", MODELS)) == 10
    assert {bearer(r) for r in calls(rsps, "GET", MODELS)} == {f"{TOKEN}-1"}


def test_token_refreshed_shortly_before_expiry_with_fake_clock(
    rsps: responses.RequestsMock, issuer: TokenIssuer, creds: Credentials
) -> None:
    now = [1000.0]
    tokens = TokenSource(creds, build_session(attempts=1), clock=lambda: now[0])
    assert tokens.get() == f"{TOKEN}-1"
    # expires_in 300: refreshed 30 s (the margin) before the end, not earlier.
    now[0] += 269.0
    assert tokens.get() == f"{TOKEN}-1"
    assert issuer.issued == 1
    now[0] += 1.0
    assert tokens.get() == f"{TOKEN}-2"
    assert issuer.issued == 2
    now[0] += 100.0
    assert tokens.get() == f"{TOKEN}-2"
    assert issuer.issued == 2
    assert_no_secret(tokens)


def test_short_lived_token_refreshed_a_tenth_of_its_life_early(
    rsps: responses.RequestsMock, issuer: TokenIssuer, creds: Credentials
) -> None:
    issuer.expires_in = 10
    now = [0.0]
    tokens = TokenSource(creds, build_session(attempts=1), clock=lambda: now[0])
    tokens.get()
    now[0] = 8.9
    tokens.get()
    assert issuer.issued == 1
    now[0] = 9.0
    tokens.get()
    assert issuer.issued == 2


def test_client_refreshes_a_token_that_expires(
    client: DAIClient, rsps: responses.RequestsMock, issuer: TokenIssuer
) -> None:
    issuer.expires_in = 0.2
    rsps.get(MODELS, json=MODEL_LIST)
    client.list_models()
    client.list_models()
    assert issuer.issued == 1
    time.sleep(0.25)
    client.list_models()
    assert issuer.issued == 2
    assert [bearer(r) for r in calls(rsps, "GET", MODELS)] == [
        f"{TOKEN}-1",
        f"{TOKEN}-1",
        f"{TOKEN}-2",
    ]


def test_401_refreshes_token_and_retries_once(
    client: DAIClient, rsps: responses.RequestsMock, issuer: TokenIssuer
) -> None:
    rsps.get(MODELS, status=401, json={"detail": "Token expired"})
    rsps.get(MODELS, json=MODEL_LIST)
    models = client.list_models()
    assert [m.name for m in models] == ["Shop checkout"]
    sent = calls(rsps, "GET", MODELS)
    assert [bearer(r) for r in sent] == [f"{TOKEN}-1", f"{TOKEN}-2"]
    assert issuer.issued == 2


def test_second_401_is_auth_error_after_two_attempts(
    client: DAIClient, rsps: responses.RequestsMock, issuer: TokenIssuer
) -> None:
    rsps.get(MODELS, status=401, json={"detail": "Not authenticated"})
    with pytest.raises(DAIAuthError) as info:
        client.list_models()
    assert_dai_message(
        info.value, "listing models (GET ", "/ai/models)", "401", "Not authenticated"
    )
    assert len(calls(rsps, "GET", MODELS)) == 2
    assert issuer.issued == 2


def test_401_on_start_resends_the_same_body_once(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.post(EXECUTIONS, status=401, json={"detail": "expired"})
    rsps.post(EXECUTIONS, status=201, json={"id": "e-1"})
    started = client.start_execution("m-1", agent_id="agent-1")
    assert started.id == "e-1"
    first, second = calls(rsps, "POST", EXECUTIONS)
    assert first.body == second.body
    assert bearer(first) != bearer(second)


def test_401_after_a_token_another_thread_renewed_keeps_the_new_one(
    rsps: responses.RequestsMock, issuer: TokenIssuer, creds: Credentials
) -> None:
    tokens = TokenSource(creds, build_session(attempts=1))
    old = tokens.get()
    tokens.invalidate(old)
    new = tokens.get()
    tokens.invalidate(old)  # a late 401 for the old token must not drop the new one
    assert tokens.get() == new
    assert issuer.issued == 2


def test_eight_threads_cause_one_token_request(
    client: DAIClient, rsps: responses.RequestsMock, issuer: TokenIssuer
) -> None:
    issuer.delay = 0.3
    rsps.get(MODELS, json=MODEL_LIST)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    results: list[int] = []

    def work() -> None:
        try:
            barrier.wait()
            results.append(len(client.list_models()))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not errors
    assert results == [1] * 8
    assert issuer.issued == 1
    assert len(calls(rsps, "GET", MODELS)) == 8


def test_eight_threads_on_a_token_source(
    rsps: responses.RequestsMock, issuer: TokenIssuer, creds: Credentials
) -> None:
    issuer.delay = 0.2
    tokens = TokenSource(creds, build_session(attempts=1))
    got: list[str] = []
    threads = [threading.Thread(target=lambda: got.append(tokens.get())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert got == [f"{TOKEN}-1"] * 8
    assert issuer.issued == 1


# -- token endpoint errors ---------------------------------------------------------------------


@pytest.fixture
def token_rsps() -> Iterator[responses.RequestsMock]:
    """``responses`` without a token endpoint: each test scripts its own."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _client(creds: Credentials) -> DAIClient:
    return DAIClient(BASE, creds, attempts=2, backoff_factor=0, timeout=5)


@pytest.mark.parametrize("status", [400, 401])
def test_bad_credentials_are_auth_error(
    token_rsps: responses.RequestsMock, creds: Credentials, status: int
) -> None:
    token_rsps.post(
        TOKEN_URL,
        status=status,
        json={
            "error": "unauthorized_client",
            "error_description": "Invalid client or Invalid client credentials",
        },
    )
    with pytest.raises(DAIAuthError) as info:
        _client(creds).list_models()
    assert not isinstance(info.value, DAILicenceError)
    assert_dai_message(
        info.value,
        f"token endpoint {TOKEN_URL}",
        str(status),
        "Invalid client or Invalid client credentials",
        CLIENT_ID,
    )
    assert len(calls(token_rsps, "POST", TOKEN_URL)) == 1  # a refusal is not retried


def test_no_licence_is_licence_error(
    token_rsps: responses.RequestsMock, creds: Credentials
) -> None:
    token_rsps.post(
        TOKEN_URL,
        status=403,
        json={"error_description": "Not enough available concurrent user licenses"},
    )
    with pytest.raises(DAILicenceError) as info:
        _client(creds).list_models()
    assert_dai_message(
        info.value, "403", "Not enough available concurrent user licenses", "licence"
    )


def test_token_endpoint_5xx_is_retried_then_http_error(
    token_rsps: responses.RequestsMock, creds: Credentials
) -> None:
    token_rsps.post(
        TOKEN_URL, status=502, body="<html><body><h1>502 Bad Gateway</h1></body></html>"
    )
    with pytest.raises(DAIHTTPError) as info:
        _client(creds).list_models()
    text = assert_dai_message(info.value, "token endpoint", "502", "Bad Gateway")
    assert "<" not in text
    assert len(calls(token_rsps, "POST", TOKEN_URL)) == 2  # attempts=2: the POST is safe here


def test_token_endpoint_5xx_then_token(
    token_rsps: responses.RequestsMock, creds: Credentials, issuer: TokenIssuer
) -> None:
    token_rsps.post(TOKEN_URL, status=503)
    token_rsps.add_callback(responses.POST, TOKEN_URL, callback=issuer.callback)
    token_rsps.get(MODELS, json=MODEL_LIST)
    assert len(_client(creds).list_models()) == 1


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("<html>login page</html>", "not JSON"),
        ('{"token_type": "Bearer", "expires_in": 300}', "no access_token"),
        ('{"access_token": "", "expires_in": 300}', "no access_token"),
        ("[1, 2]", "no access_token"),
    ],
)
def test_unusable_token_answer_is_protocol_error(
    token_rsps: responses.RequestsMock, creds: Credentials, body: str, needle: str
) -> None:
    token_rsps.post(TOKEN_URL, body=body, content_type="application/json")
    with pytest.raises(DAIProtocolError) as info:
        _client(creds).list_models()
    assert_dai_message(info.value, "token endpoint", needle)


def test_token_endpoint_unreachable_is_connection_error(creds: Credentials, free_port: int) -> None:
    refused = Credentials(CLIENT_ID, SECRET, f"http://127.0.0.1:{free_port}/token")
    client = DAIClient(BASE, refused, attempts=2, backoff_factor=0, timeout=2)
    with pytest.raises(DAIConnectionError) as info:
        client.list_models()
    assert_dai_message(info.value, f"token endpoint http://127.0.0.1:{free_port}/token")


def test_token_lifetime_garbage_defaults_to_300(
    token_rsps: responses.RequestsMock, creds: Credentials
) -> None:
    token_rsps.post(TOKEN_URL, json={"access_token": f"{TOKEN}-x", "expires_in": "soon"})
    now = [0.0]
    tokens = TokenSource(creds, build_session(attempts=1), clock=lambda: now[0])
    tokens.get()
    now[0] = 269.0
    tokens.get()
    assert len(calls(token_rsps, "POST", TOKEN_URL)) == 1


def test_reprs_hold_no_token(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.get(MODELS, json=MODEL_LIST)
    client.list_models()
    auth = BearerAuth(client.tokens)
    assert "cached" in repr(client.tokens)
    assert_no_secret(client, client.tokens, auth)
