"""Retries, Retry-After, timeouts, refused connections and TLS, against a real local socket.

``responses`` cannot sleep or time out, so these tests use the scripted ``http.server`` of
``support.py`` on 127.0.0.1:0. Each keeps its waits well under a couple of seconds.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest
import requests
from urllib3.util.retry import Retry

from pytest_dai.client import http as dai_http
from pytest_dai.client.calls import ABORT_RUN, LIST_MODELS, RUN_STATUS, START_RUN
from pytest_dai.client.credentials import Credentials
from pytest_dai.client.endpoints import DAIClient
from pytest_dai.client.errors import DAIConfigError, DAIConnectionError, DAIHTTPError
from pytest_dai.client.http import CappedRetry, StartSafeRetry, build_session

from .support import (
    CLIENT_ID,
    SECRET,
    TOKEN_PATH,
    Reply,
    ScriptedServer,
    assert_dai_message,
    assert_no_secret,
)

EXECUTIONS_PATH = "/execution_service/api/v1/executions"
STARTED = Reply(201, {"id": "e-1", "status": "Queued"})
MODELS_OK = Reply(200, [{"id": "m-1", "name": "Shop checkout"}])


def make_client(server: ScriptedServer, **kwargs: float) -> DAIClient:
    options: dict[str, float] = {"attempts": 3, "backoff_factor": 0, "timeout": 5}
    options.update(kwargs)
    return DAIClient(
        server.url,
        server.credentials(),
        attempts=int(options["attempts"]),
        backoff_factor=options["backoff_factor"],
        timeout=options["timeout"],
        abort_timeout=options.get("abort_timeout", 5.0),
    )


def gaps(server: ScriptedServer, method: str, path: str) -> list[float]:
    """Seconds between the requests the server received on a route."""
    times = [s.at for s in server.requests(method, path)]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


# -- build_session ------------------------------------------------------------------------------


def test_tls_verification_on_by_default() -> None:
    session = build_session()
    assert session.verify is True
    assert session.headers["User-Agent"] == "pytest-dai"


def test_ca_cert_is_used(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    session = build_session(ca_cert=str(bundle))
    assert session.verify == str(bundle)


def test_missing_ca_cert_is_config_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(DAIConfigError) as info:
        build_session(ca_cert=missing)
    assert_dai_message(info.value, "CA bundle", missing, "no such file")


def test_missing_ca_cert_through_the_client(tmp_path: Path) -> None:
    creds = Credentials(CLIENT_ID, SECRET, "https://dai.test/token")
    with pytest.raises(DAIConfigError):
        DAIClient("https://dai.test", creds, ca_cert=str(tmp_path / "nope.pem"))


def test_attempts_below_one_is_config_error() -> None:
    with pytest.raises(DAIConfigError) as info:
        build_session(attempts=0)
    assert_dai_message(info.value, "attempts", "0")


def test_adapters_retry_policies() -> None:
    token_url = "https://dai.test/auth/token"
    session = build_session(attempts=4, backoff_factor=0.25, safe_post_prefixes=(token_url,))
    default = session.get_adapter("https://dai.test/ai/runs").max_retries  # type: ignore[attr-defined]
    token = session.get_adapter(token_url).max_retries  # type: ignore[attr-defined]
    assert isinstance(default, StartSafeRetry)
    assert isinstance(token, CappedRetry)
    assert not isinstance(token, StartSafeRetry)
    for retry in (default, token):
        assert retry.total == 3
        assert retry.backoff_factor == 0.25
        assert retry.respect_retry_after_header
        assert not retry.raise_on_status
    assert "POST" not in default.allowed_methods
    assert "POST" in token.allowed_methods
    assert default.is_retry("GET", 500)
    assert default.is_retry("DELETE", 503)
    assert default.is_retry("POST", 503)
    assert default.is_retry("POST", 429)
    for status in (500, 502, 504, 400, 401, 404):
        assert not default.is_retry("POST", status)
    assert token.is_retry("POST", 500)
    exhausted = default.new(total=0)
    assert not exhausted.is_retry("POST", 503)
    assert isinstance(exhausted, StartSafeRetry)


def test_start_safe_retry_is_a_urllib3_retry() -> None:
    assert issubclass(StartSafeRetry, Retry)


# -- Retry-After --------------------------------------------------------------------------------


@pytest.mark.slow
def test_retry_after_on_a_get_is_honoured(server: ScriptedServer) -> None:
    server.add("GET", "/ai/models", Reply(503, {"detail": "busy"}, {"Retry-After": "1"}), MODELS_OK)
    client = make_client(server)
    started = time.monotonic()
    assert [m.name for m in client.list_models()] == ["Shop checkout"]
    assert time.monotonic() - started >= 0.95
    (gap,) = gaps(server, "GET", "/ai/models")
    assert gap >= 0.95


@pytest.mark.slow
def test_retry_after_on_a_start_is_honoured(server: ScriptedServer) -> None:
    server.add(
        "POST",
        EXECUTIONS_PATH,
        Reply(429, {"detail": "Too Many Requests"}, {"Retry-After": "1"}),
        STARTED,
    )
    client = make_client(server)
    assert client.start_execution("m-1").id == "e-1"
    assert len(server.requests("POST", EXECUTIONS_PATH)) == 2
    (gap,) = gaps(server, "POST", EXECUTIONS_PATH)
    assert gap >= 0.95


def test_start_503_is_retried_and_succeeds(server: ScriptedServer) -> None:
    server.add(
        "POST", EXECUTIONS_PATH, Reply(503, {"detail": "RabbitMQ is not available"}), STARTED
    )
    client = make_client(server)
    assert client.start_execution("m-1").id == "e-1"
    assert len(server.requests("POST", EXECUTIONS_PATH)) == 2


def test_huge_retry_after_is_capped(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dai_http, "RETRY_AFTER_MAX", 0.3)
    server.add("GET", "/ai/models", Reply(503, headers={"Retry-After": "3600"}), MODELS_OK)
    client = make_client(server)
    started = time.monotonic()
    assert len(client.list_models()) == 1
    elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 3


def test_huge_retry_after_on_the_token_endpoint_is_capped(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dai_http, "RETRY_AFTER_MAX", 0.3)
    server.add("POST", TOKEN_PATH, Reply(503, headers={"Retry-After": "86400"}), Reply())
    server.add("GET", "/ai/models", MODELS_OK)
    client = make_client(server)
    started = time.monotonic()
    assert len(client.list_models()) == 1
    assert time.monotonic() - started < 3
    assert len(server.requests("POST", TOKEN_PATH)) == 2


def test_retry_after_budget_runs_out(server: ScriptedServer) -> None:
    server.add("GET", "/ai/runs", Reply(429, {"detail": "slow down"}, {"Retry-After": "0"}))
    client = make_client(server, attempts=2)
    with pytest.raises(DAIHTTPError) as info:
        client.find_run("e-1")
    assert info.value.status == 429
    assert_dai_message(info.value, client.label(RUN_STATUS), "429", "slow down")
    assert len(server.requests("GET", "/ai/runs")) == 2


# -- timeouts -----------------------------------------------------------------------------------


def test_start_that_times_out_is_not_sent_twice(server: ScriptedServer) -> None:
    server.add("POST", EXECUTIONS_PATH, Reply(201, {"id": "e-1"}, delay=2.0))
    client = make_client(server, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(DAIConnectionError) as info:
        client.start_execution("m-1")
    assert time.monotonic() - started < 1.5
    assert_dai_message(info.value, client.label(START_RUN), "no answer within 0.2 s")
    time.sleep(0.2)
    assert len(server.requests("POST", EXECUTIONS_PATH)) == 1


def test_start_that_gets_500_is_not_retried(server: ScriptedServer) -> None:
    server.add("POST", EXECUTIONS_PATH, Reply(500, {"detail": "Internal Server Error"}), STARTED)
    client = make_client(server)
    with pytest.raises(DAIHTTPError) as info:
        client.start_execution("m-1")
    assert info.value.status == 500
    assert_dai_message(info.value, client.label(START_RUN), "500", "Internal Server Error")
    assert len(server.requests("POST", EXECUTIONS_PATH)) == 1


def test_get_that_times_out_is_retried(server: ScriptedServer) -> None:
    server.add(
        "GET",
        "/ai/runs",
        Reply(200, [], delay=2.0),
        Reply(200, [{"execution_id": "e-1", "status": "Running"}]),
    )
    client = make_client(server, timeout=0.4)
    record = client.find_run("e-1")
    assert record is not None
    assert record.status.word == "Running"
    assert len(server.requests("GET", "/ai/runs")) == 2


def test_get_that_always_times_out_is_connection_error(server: ScriptedServer) -> None:
    server.add("GET", "/ai/runs", Reply(200, [], delay=2.0))
    client = make_client(server, timeout=0.2, attempts=2)
    with pytest.raises(DAIConnectionError) as info:
        client.find_run("e-1")
    assert_dai_message(info.value, client.label(RUN_STATUS), server.url)
    assert len(server.requests("GET", "/ai/runs")) == 2


def test_abort_is_quick_when_the_server_hangs(server: ScriptedServer) -> None:
    server.add("DELETE", f"{EXECUTIONS_PATH}/e-1", Reply(204, delay=2.0))
    client = make_client(server, abort_timeout=0.1)
    client.tokens.get()
    started = time.monotonic()
    with pytest.raises(DAIConnectionError) as info:
        client.abort_execution("e-1")
    assert time.monotonic() - started < 1.5
    assert_dai_message(info.value, client.label(ABORT_RUN, id="e-1"))
    assert len(server.requests("DELETE", f"{EXECUTIONS_PATH}/e-1")) == 3


# -- connection refused --------------------------------------------------------------------------


def test_connection_refused_after_the_configured_attempts(
    server: ScriptedServer, free_port: int, connects: list[tuple[str, int]]
) -> None:
    client = DAIClient(
        f"http://127.0.0.1:{free_port}", server.credentials(), attempts=3, backoff_factor=0
    )
    with pytest.raises(DAIConnectionError) as info:
        client.list_models()
    assert_dai_message(
        info.value,
        client.label(LIST_MODELS),
        f"cannot reach http://127.0.0.1:{free_port}",
        "connection refused",
    )
    assert [port for _, port in connects].count(free_port) == 3


def test_start_with_connection_refused_is_retried(
    server: ScriptedServer, free_port: int, connects: list[tuple[str, int]]
) -> None:
    client = DAIClient(
        f"http://127.0.0.1:{free_port}", server.credentials(), attempts=2, backoff_factor=0
    )
    with pytest.raises(DAIConnectionError) as info:
        client.start_execution("m-1")
    assert_dai_message(info.value, client.label(START_RUN), "connection refused")
    assert [port for _, port in connects].count(free_port) == 2


def test_unknown_host_is_connection_error(server: ScriptedServer) -> None:
    client = DAIClient(
        "http://no-such-host.invalid", server.credentials(), attempts=1, backoff_factor=0
    )
    with pytest.raises(DAIConnectionError) as info:
        client.list_models()
    assert_dai_message(info.value, client.label(LIST_MODELS), "http://no-such-host.invalid")


# -- TLS ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


@pytest.fixture
def tls_server(self_signed: tuple[str, str]) -> Iterator[ScriptedServer]:
    srv = ScriptedServer(tls=self_signed).start()
    try:
        yield srv
    finally:
        srv.close()


def test_self_signed_server_is_refused_without_ca_cert(tls_server: ScriptedServer) -> None:
    client = DAIClient(tls_server.url, tls_server.credentials(), attempts=1)
    with pytest.raises(DAIConnectionError) as info:
        client.list_models()
    assert_dai_message(info.value, "TLS verification", "--dai-ca-cert")


def test_self_signed_server_is_trusted_with_ca_cert(
    tls_server: ScriptedServer, self_signed: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A CI-wide bundle in the environment must not replace the configured CA bundle.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    monkeypatch.setenv("CURL_CA_BUNDLE", certifi.where())
    tls_server.add("GET", "/ai/models", MODELS_OK)
    with DAIClient(
        tls_server.url, tls_server.credentials(), attempts=1, ca_cert=self_signed[0]
    ) as client:
        assert len(client.list_models()) == 1
        assert_no_secret(client, client.tokens)


def test_tls_failure_on_an_endpoint_names_it(
    tls_server: ScriptedServer, server: ScriptedServer
) -> None:
    # token from the plain server, API on the TLS one: the E5 call itself fails verification
    client = DAIClient(
        tls_server.url, server.credentials(), attempts=1, allow_insecure_token_url=True
    )
    with pytest.raises(DAIConnectionError) as info:
        client.list_models()
    assert_dai_message(info.value, client.label(LIST_MODELS), "TLS verification", tls_server.url)


def test_requests_exceptions_never_escape(server: ScriptedServer) -> None:
    server.add("GET", "/ai/models", Reply(200, "not json at all"))
    client = make_client(server)
    with pytest.raises(Exception) as info:
        client.list_models()
    assert not isinstance(info.value, requests.RequestException)
    assert_dai_message(info.value, client.label(LIST_MODELS), "not JSON", "text/plain")
