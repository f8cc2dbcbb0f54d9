"""Fixtures of the DAI wire client tests (the fakes themselves are in ``support.py``)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from pytest_dai.client.credentials import Credentials
from pytest_dai.client.endpoints import DAIClient

from .support import (
    BASE,
    CLIENT_ID,
    SECRET,
    SEEN,
    TOKEN_URL,
    ScriptedServer,
    TokenIssuer,
    assert_no_secret,
)


@pytest.fixture(autouse=True)
def seen_objects_stay_clean() -> Iterator[None]:
    """Every object a client test passed to ``assert_no_secret`` is checked once more when the
    test ends, as it is then (a client may have fetched or refreshed a token since)."""
    SEEN.clear()
    yield
    seen = list(SEEN)
    SEEN.clear()
    assert_no_secret(*seen)


@pytest.fixture
def creds() -> Credentials:
    """The test client's credentials."""
    return Credentials(CLIENT_ID, SECRET, TOKEN_URL)


@pytest.fixture
def issuer() -> TokenIssuer:
    """The fake token endpoint's state."""
    return TokenIssuer()


@pytest.fixture
def rsps(issuer: TokenIssuer) -> Iterator[responses.RequestsMock]:
    """``responses`` active for the test, with the token endpoint answering."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, TOKEN_URL, callback=issuer.callback)
        yield mock


@pytest.fixture
def client(rsps: responses.RequestsMock, creds: Credentials) -> Iterator[DAIClient]:
    """A client of :data:`BASE`: 3 attempts, no backoff sleeps."""
    with DAIClient(BASE, creds, attempts=3, backoff_factor=0, timeout=5) as dai:
        yield dai
        assert_no_secret(dai, dai.tokens)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A running scripted HTTP server on 127.0.0.1."""
    srv = ScriptedServer().start()
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture
def free_port() -> int:
    """A local port nobody listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every TCP connection urllib3 tries to open, as ``(host, port)``: one per attempt."""
    import urllib3.util.connection as u3conn

    real = u3conn.create_connection
    seen: list[tuple[str, int]] = []

    def counting(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        seen.append((address[0], int(address[1])))
        return real(address, *args, **kwargs)

    monkeypatch.setattr(u3conn, "create_connection", counting)
    return seen
