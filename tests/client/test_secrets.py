"""No client secret and no access token in any message or repr (contract section 3, rule 8).

Every error type is provoked with the secret and the token present in the request and echoed
back in the response body; ``str()``, ``repr()`` and ``args`` of every exception and of every
client object are then searched for both. ``assert_no_secret`` also records what the other
client tests checked (``SEEN``), and each client test's objects are checked once more when it
ends (``conftest.py``), as they are then.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import responses

from pytest_dai.client.auth import BearerAuth, TokenSource
from pytest_dai.client.credentials import Credentials, read_credentials_csv
from pytest_dai.client.endpoints import DAIClient
from pytest_dai.client.errors import (
    DAIAuthError,
    DAIConfigError,
    DAIConnectionError,
    DAIError,
    DAIHTTPError,
    DAILicenceError,
    DAINotFoundError,
    DAIProtocolError,
)
from pytest_dai.client.http import build_session

from .support import (
    AGENTS,
    BASE,
    CLIENT_ID,
    EXECUTIONS,
    MODELS,
    RUNLOGS,
    RUNS,
    SECRET,
    TOKEN,
    TOKEN_URL,
    Reply,
    ScriptedServer,
    TokenIssuer,
    assert_no_secret,
)

Echo = Callable[[Any], tuple[int, dict[str, str], str]]


def echo(status: int, *, html: bool = False, content_type: str = "application/json") -> Echo:
    """A callback answering ``status`` with everything the request carried, and the secret."""

    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        raw = request.body or b""
        body = raw.decode() if isinstance(raw, bytes) else str(raw)
        auth = request.headers.get("Authorization", "")
        seen = f"you sent {auth!s} with body {body} (client_secret={SECRET})"
        if html:
            text = f"<html><body><h1>Error</h1><pre>{seen}</pre></body></html>"
            return status, {"Content-Type": "text/html"}, text
        if content_type != "application/json":
            return status, {"Content-Type": content_type}, seen
        payload = {
            "detail": seen,
            "access_token": TOKEN,
            "headers": dict(request.headers),
        }
        return status, {"Content-Type": "application/json"}, json.dumps(payload)

    return callback


def echo_token(status: int) -> Echo:
    """Keycloak refusing, echoing the posted form (which holds the client secret)."""

    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        raw = request.body or ""
        form = raw.decode() if isinstance(raw, bytes) else raw
        body = {"error": "unauthorized_client", "error_description": f"bad form {form}"}
        return status, {"Content-Type": "application/json"}, json.dumps(body)

    return callback


def provoke(action: Callable[[], object], expected: type[DAIError]) -> DAIError:
    with pytest.raises(expected) as info:
        action()
    return info.value


def test_every_error_type_with_secret_and_token_echoed(
    tmp_path: Path, free_port: int, server: ScriptedServer
) -> None:
    creds = Credentials(CLIENT_ID, SECRET, TOKEN_URL)
    produced: list[object] = [creds]
    issuer = TokenIssuer()

    def new_client(**kwargs: Any) -> DAIClient:
        client = DAIClient(BASE, creds, attempts=2, backoff_factor=0, **kwargs)
        produced.extend([client, client.tokens, BearerAuth(client.tokens)])
        return client

    # token endpoint refusals echo the form with the secret
    for status, cls in ((400, DAIAuthError), (401, DAIAuthError), (403, DAILicenceError)):
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add_callback(responses.POST, TOKEN_URL, callback=echo_token(status))
            produced.append(provoke(new_client().list_models, cls))
    # token endpoint 5xx and non-JSON, echoing the request too
    for callback, cls in ((echo(500), DAIHTTPError), (echo(200, html=True), DAIProtocolError)):
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add_callback(responses.POST, TOKEN_URL, callback=callback)
            produced.append(provoke(new_client().list_models, cls))

    # every endpoint, every kind of failure, with the bearer token and the secret echoed
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, TOKEN_URL, callback=issuer.callback)
        client = new_client()
        mock.add_callback(responses.POST, EXECUTIONS, callback=echo(500))
        produced.append(provoke(lambda: client.start_execution("m-1"), DAIHTTPError))
        mock.remove(responses.POST, EXECUTIONS)
        mock.add_callback(responses.POST, EXECUTIONS, callback=echo(404))
        produced.append(provoke(lambda: client.start_execution("m-1"), DAINotFoundError))
        mock.add_callback(responses.GET, RUNS, callback=echo(200, content_type="text/plain"))
        produced.append(provoke(lambda: client.find_run("e-1"), DAIProtocolError))
        mock.add_callback(responses.GET, MODELS, callback=echo(401))
        produced.append(provoke(client.list_models, DAIAuthError))
        mock.add_callback(responses.GET, AGENTS, callback=echo(502, html=True))
        produced.append(provoke(client.list_agents, DAIHTTPError))
        mock.add_callback(responses.GET, f"{RUNLOGS}/r-1", callback=echo(404))
        produced.append(provoke(lambda: client.run_logs("r-1"), DAINotFoundError))
        mock.add_callback(responses.DELETE, f"{EXECUTIONS}/e-1", callback=echo(422))
        produced.append(provoke(lambda: client.abort_execution("e-1"), DAIHTTPError))
        mock.add(responses.GET, f"{RUNLOGS}/r-2", json={"items": {"secret": SECRET}})
        produced.append(provoke(lambda: client.run_logs("r-2"), DAIProtocolError))
        produced.extend([client, client.tokens])

    # connection failures: refused and timed out (real sockets)
    refused = DAIClient(
        f"http://127.0.0.1:{free_port}", server.credentials(), attempts=1, backoff_factor=0
    )
    produced.append(provoke(refused.list_models, DAIConnectionError))
    produced.extend([refused, refused.tokens])
    server.add("GET", "/ai/models", Reply(200, [], delay=1.0))
    slow = DAIClient(server.url, server.credentials(), attempts=1, timeout=0.2)
    produced.append(provoke(slow.list_models, DAIConnectionError))
    produced.extend([slow, slow.tokens, BearerAuth(slow.tokens)])
    bad_token_url = Credentials(CLIENT_ID, SECRET, f"http://127.0.0.1:{free_port}/token")
    produced.append(
        provoke(DAIClient(BASE, bad_token_url, attempts=1).list_models, DAIConnectionError)
    )

    # configuration: a CSV with the secret but no client id, a missing CA bundle
    csv_path = tmp_path / "creds.csv"
    csv_path.write_text(f"client_id,client_secret,token_url\n,{SECRET},{TOKEN_URL}\n")
    produced.append(provoke(lambda: read_credentials_csv(csv_path), DAIConfigError))
    csv_path.write_text(f"client_id,client_secret,token_url\n{CLIENT_ID},{SECRET},{TOKEN_URL}\n")
    produced.append(read_credentials_csv(csv_path))
    produced.append(
        provoke(lambda: build_session(ca_cert=str(tmp_path / f"{SECRET}.pem")), DAIConfigError)
    )
    produced.append(TokenSource(creds, build_session()))

    kinds = {type(obj).__name__ for obj in produced}
    assert {
        "DAIAuthError",
        "DAILicenceError",
        "DAIHTTPError",
        "DAINotFoundError",
        "DAIProtocolError",
        "DAIConnectionError",
        "DAIConfigError",
        "DAIClient",
        "TokenSource",
        "BearerAuth",
        "Credentials",
        "CsvCredentials",
    } <= kinds
    leaks = [
        f"{type(obj).__name__}: {text}"
        for obj in produced
        for text in (str(obj), repr(obj), *map(str, getattr(obj, "args", ())))
        if SECRET in text or TOKEN in text
    ]
    assert leaks == []
    # the echoes did reach the messages, masked: the test is not vacuous
    messages = " ".join(str(obj) for obj in produced if isinstance(obj, DAIError))
    assert "***" in messages
    assert "you sent" in messages
    assert_no_secret(*produced)


def test_secret_path_in_ca_bundle_error_is_masked(tmp_path: Path) -> None:
    # Paths are shown in errors; a registered secret inside one is masked like anywhere else.
    Credentials(CLIENT_ID, SECRET, TOKEN_URL)
    with pytest.raises(DAIConfigError) as info:
        build_session(ca_cert=str(tmp_path / f"{SECRET}.pem"))
    assert SECRET not in str(info.value)


def test_client_objects_stay_clean_once_they_hold_a_token(
    rsps: responses.RequestsMock, creds: Credentials, issuer: TokenIssuer
) -> None:
    # Checked before any token exists, then again while they hold one and after a refresh:
    # what a repr shows may change once a token arrives.
    client = DAIClient(BASE, creds, attempts=1, backoff_factor=0)
    auth = BearerAuth(client.tokens)
    objects: list[object] = [creds, client, client.tokens, auth]
    assert_no_secret(*objects)
    rsps.add(responses.GET, MODELS, json=[])

    client.list_models()
    held = client.tokens.get()
    assert held.startswith(TOKEN), held  # the objects hold a token now
    assert_no_secret(*objects)

    client.tokens.invalidate(held)
    client.list_models()
    assert issuer.issued == 2
    assert client.tokens.get() != held
    assert_no_secret(*objects)
