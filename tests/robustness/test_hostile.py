"""Hostile servers and hostile neighbours (issue 10), each class against its own loopback server
(:mod:`.hostile`): credentials stay at their own origin, every wait has a total bound, memory is
bounded by what is real, server data never causes an internal traceback, tokens never reach a
traceback, a start whose answer is lost leaves no run going, a journal planted by someone else
causes no request, and names from the server cannot drive the terminal.

Client-level classes run in this process against :class:`.hostile.RawServer`; the plugin-level
ones run an inner pytest against the simulator behind :class:`.hostile.Proxy`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.env import point_at
from harness.inner import FAST, finish, popen
from harness.simulators import eventually
from harness.wire import TOKEN_PATH

from pytest_dai.client.credentials import Credentials
from pytest_dai.client.deadline import call_budget
from pytest_dai.client.endpoints import DAIClient
from pytest_dai.client.errors import (
    DAIConfigError,
    DAIConnectionError,
    DAIError,
    DAIProtocolError,
    DAIRedirectError,
)
from pytest_dai.client.records import LogEntry, RunRecord
from pytest_dai.client.safety import escape_control_chars, path_id
from pytest_dai.client.test_configs import TestConfigAPI
from pytest_dai.lifecycle.execution import Execution
from pytest_dai.lifecycle.outcome import DAIRunTimeout
from pytest_dai.lifecycle.steps import STEPS_LIMIT, run_steps
from pytest_dai.simulator import DAISimulator

from .hostile import TOKEN, Proxy, RawServer, Request, reply, token_reply, trickle
from .support import SECRET

RUN = {"id": 7, "execution_id": "ex-1", "status": "Running", "modelname": "M"}


def one_line(exc: BaseException, *needles: str) -> str:
    """A DAIError of one line, with no credential, holding every needle."""
    assert isinstance(exc, DAIError), repr(exc)
    text = str(exc)
    assert "\n" not in text, text
    assert "\r" not in text, text
    assert SECRET not in text, text
    assert TOKEN not in text, text
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"
    return text


def client_for(server: RawServer, **kwargs: Any) -> DAIClient:
    """A client of ``server`` whose token endpoint is on the same server."""
    kwargs.setdefault("attempts", 2)
    kwargs.setdefault("timeout", 1.0)
    credentials = Credentials("hostile-client", SECRET, server.url + TOKEN_PATH)
    return DAIClient(server.url, credentials, **kwargs)


@pytest.fixture
def servers() -> Iterator[Callable[[Callable[..., None]], RawServer]]:
    """``make(handler)``: a :class:`RawServer` (closed at teardown). The token endpoint
    answers a token unless the handler deals with it."""
    made: list[RawServer] = []

    def make(handler: Callable[[RawServer, socket.socket, Request], None]) -> RawServer:
        def with_token(server: RawServer, conn: socket.socket, request: Request) -> None:
            if request.path == TOKEN_PATH and handler.__name__ != "token_handler":
                token_reply(conn)
            else:
                handler(server, conn, request)

        server = RawServer(with_token)
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


@pytest.fixture
def catcher(servers: Callable[..., RawServer]) -> RawServer:
    """The other origin: records whatever reaches it, answers 200 with an empty list."""

    def catch_all(server: RawServer, conn: socket.socket, request: Request) -> None:
        reply(conn, 200, [])

    return servers(catch_all)


def no_credential_at(server: RawServer) -> None:
    """Nothing with the secret or a token reached ``server`` (nothing at all, here)."""
    for request in server.requests:
        text = json.dumps(request.headers) + request.body.decode("latin-1")
        assert SECRET not in text, request
        assert TOKEN not in text, request
    assert server.requests == [], [r.path for r in server.requests]


# -- credentials go only to their own origin --------------------------------------------------


@pytest.mark.parametrize("status", [302, 307, 308])
def test_token_request_is_never_redirected(
    status: int, servers: Callable[..., RawServer], catcher: RawServer
) -> None:
    def token_handler(server: RawServer, conn: socket.socket, request: Request) -> None:
        reply(conn, status, {}, {"Location": catcher.url + TOKEN_PATH})

    server = servers(token_handler)
    with pytest.raises(DAIRedirectError) as info:
        client_for(server).list_models()
    one_line(info.value, server.url, catcher.url, str(status))
    no_credential_at(catcher)


def test_token_form_is_not_posted_again_to_the_same_origin(
    servers: Callable[..., RawServer],
) -> None:
    def token_handler(server: RawServer, conn: socket.socket, request: Request) -> None:
        reply(conn, 307, {}, {"Location": "/elsewhere/token"})

    server = servers(token_handler)
    with pytest.raises(DAIRedirectError) as info:
        client_for(server).list_models()
    one_line(info.value, "not sent again")
    assert [r.path for r in server.requests] == [TOKEN_PATH]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_api_call_is_never_redirected_to_another_origin(
    status: int, servers: Callable[..., RawServer], catcher: RawServer
) -> None:
    def handler(server: RawServer, conn: socket.socket, request: Request) -> None:
        reply(conn, status, {}, {"Location": catcher.url + "/ai/models"})

    server = servers(handler)
    with pytest.raises(DAIRedirectError) as info:
        client_for(server).list_models()
    one_line(info.value, server.url, catcher.url, "not followed")
    no_credential_at(catcher)


def test_api_call_follows_a_redirect_on_its_own_origin(servers: Callable[..., RawServer]) -> None:
    def handler(server: RawServer, conn: socket.socket, request: Request) -> None:
        if request.path == "/ai/models":
            reply(conn, 307, {}, {"Location": "/ai/models/"})
        else:
            reply(conn, 200, [{"id": "m1", "name": "Shop"}])

    server = servers(handler)
    assert [m.name for m in client_for(server).list_models()] == ["Shop"]
    assert server.seen("/ai/models/")[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_https_to_http_is_refused() -> None:
    from pytest_dai.client.http import same_origin

    assert not same_origin("https://dai.example:443/x", "http://dai.example:443/x")
    assert not same_origin("https://dai.example/x", "http://dai.example/x")
    assert same_origin("https://DAI.example/x", "https://dai.example:443/y")


def test_401_retry_never_adds_a_token_for_another_origin(
    servers: Callable[..., RawServer], catcher: RawServer
) -> None:
    def handler(server: RawServer, conn: socket.socket, request: Request) -> None:
        reply(conn, 401, {"message": "expired"})

    server = servers(handler)
    client = client_for(server)
    # A request for another origin through the client's session and auth gets no token.
    response = client._session.get(catcher.url + "/ai/models", auth=client._auth, timeout=2)
    assert response.status_code == 200
    assert "authorization" not in catcher.requests[0].headers
    assert all(TOKEN not in json.dumps(r.headers) for r in catcher.requests)


def test_http_token_url_with_https_server_is_refused_unless_allowed() -> None:
    credentials = Credentials("c", SECRET, "http://keycloak.example/token")
    with pytest.raises(DAIConfigError) as info:
        DAIClient("https://dai.example", credentials)
    one_line(info.value, "http://keycloak.example", "dai_allow_insecure_token_url")
    DAIClient("https://dai.example", credentials, allow_insecure_token_url=True).close()


# -- every wait has a total bound -------------------------------------------------------------


def _trickled_headers(server: RawServer, conn: socket.socket, request: Request) -> None:
    trickle(server, conn, b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000, 0.05)


def _never_finished_headers(server: RawServer, conn: socket.socket, request: Request) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    server.stop.wait(60)


def _trickled_body(server: RawServer, conn: socket.socket, request: Request) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 9999\r\n\r\n")
    trickle(server, conn, b"[" + b" " * 9998, 0.05)


def _endless_body(server: RawServer, conn: socket.socket, request: Request) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[")
    while not server.stop.is_set():
        conn.sendall(b"1," * 512)
        time.sleep(0.01)


SLOW = {
    "trickled-headers": _trickled_headers,
    "never-finished-headers": _never_finished_headers,
    "trickled-body": _trickled_body,
    "endless-body": _endless_body,
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(SLOW))
def test_a_call_ends_within_its_total_deadline(
    kind: str, servers: Callable[..., RawServer]
) -> None:
    server = servers(SLOW[kind])
    client = client_for(server, timeout=1.0, attempts=2)
    began = time.monotonic()
    with pytest.raises(DAIConnectionError) as info:
        client.list_models()
    took = time.monotonic() - began
    one_line(info.value, f"listing models (GET {server.url}/ai/models)", "no answer within 1 s")
    # two attempts of 1 s each, and a backoff: far from the minutes a trickle could take
    assert took < 6, took


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(SLOW))
def test_an_abort_is_bounded_in_total(kind: str, servers: Callable[..., RawServer]) -> None:
    server = servers(SLOW[kind])
    client = client_for(server, timeout=1.0, attempts=5)
    execution = Execution(client, "ex-1", model="M")
    began = time.monotonic()
    assert execution.abort() is False  # never raises; says it could not
    took = time.monotonic() - began
    assert took < 5 + 1.5, took  # ABORT_TOTAL, and scheduling slack on a loaded machine
    assert len(server.seen("/execution_service")) >= 1


@pytest.mark.slow
@pytest.mark.parametrize("which", ["run", "test configuration"])
def test_an_abort_is_bounded_in_total_whatever_its_timeout(
    which: str, servers: Callable[..., RawServer]
) -> None:
    """Three attempts of 10 s each would take 30 s: either kind of abort ends within
    ABORT_TOTAL all the same."""
    server = servers(SLOW["never-finished-headers"])
    client = client_for(server, timeout=1.0, attempts=5)
    abort = client.abort_execution if which == "run" else TestConfigAPI(client).abort
    began = time.monotonic()
    with pytest.raises(DAIConnectionError):
        abort("id-1", timeout=10.0)
    took = time.monotonic() - began
    assert took < 5 + 1.5, took  # ABORT_TOTAL, and scheduling slack on a loaded machine


@pytest.mark.slow
def test_retry_after_is_capped_by_what_is_left(servers: Callable[..., RawServer]) -> None:
    def handler(server: RawServer, conn: socket.socket, request: Request) -> None:
        reply(conn, 503, {"detail": "busy"}, {"Retry-After": "60"})

    server = servers(handler)
    client = client_for(server, attempts=5)
    began = time.monotonic()
    with pytest.raises(DAIError), call_budget(1.5):
        client.list_runs()
    assert time.monotonic() - began < 4


def test_run_deadline_holds_during_a_poll(servers: Callable[..., RawServer]) -> None:
    """E2 never answers: the run deadline (0.3 s) still ends the wait, and the run is aborted."""

    def handler(server: RawServer, conn: socket.socket, request: Request) -> None:
        if request.method == "DELETE":
            reply(conn, 204)
        else:
            server.stop.wait(60)

    server = servers(handler)
    execution = Execution(client_for(server, timeout=30.0, attempts=3), "ex-1", model="M")
    began = time.monotonic()
    with pytest.raises(DAIRunTimeout):
        execution.wait(0.3)
    assert time.monotonic() - began < 4
    assert len(server.seen("/execution_service/api/v1/executions/ex-1")) == 1


# -- memory bounded by what is real; no internal traceback from server data -------------------


def _body_handler(body: bytes, headers: str = "") -> Callable[..., None]:
    def handler(server: RawServer, conn: socket.socket, request: Request) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{headers}"
        conn.sendall(head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)

    return handler


def test_huge_body_is_refused_in_one_line(servers: Callable[..., RawServer]) -> None:
    body = b"[" + b"1," * (11 * 1024 * 1024) + b"1]"  # 22 MB
    server = servers(_body_handler(body))
    with pytest.raises(DAIProtocolError) as info:
        client_for(server, timeout=10.0).list_models()
    one_line(info.value, f"listing models (GET {server.url}/ai/models)", "larger than 20 MB")


def test_huge_declared_length_is_refused_before_reading(
    servers: Callable[..., RawServer],
) -> None:
    def handler(server: RawServer, conn: socket.socket, request: Request) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n[")
        server.stop.wait(30)

    server = servers(handler)
    began = time.monotonic()
    with pytest.raises(DAIProtocolError) as info:
        client_for(server, timeout=10.0).list_models()
    assert time.monotonic() - began < 2
    one_line(info.value, "larger than 20 MB")


ABSURD = {
    "nested": b"[" * 100_000 + b"]" * 100_000,
    "nested-objects": b'{"a":' * 5000 + b"1" + b"}" * 5000,
    "giant-integer": b'[{"id": 1, "execution_id": "ex-1", "status": "Running", "steps_total": '
    + b"9" * 5000
    + b"}]",
    "nan-count": b'[{"id": 1, "execution_id": "ex-1", "status": "Running", "steps_done": NaN}]',
    "infinite-count": b'[{"id": 1, "execution_id": "ex-1", "status": "Running", '
    b'"steps_total": 1e999}]',
}


@pytest.mark.parametrize("kind", sorted(ABSURD))
def test_absurd_json_is_a_protocol_error(kind: str, servers: Callable[..., RawServer]) -> None:
    server = servers(_body_handler(ABSURD[kind]))
    with pytest.raises(DAIProtocolError) as info:
        client_for(server).find_run("ex-1")
    text = one_line(info.value, f"reading the run's status (GET {server.url}/ai/runs)")
    if kind in ("giant-integer", "nan-count", "infinite-count"):
        assert "field steps_" in text, text


@pytest.mark.parametrize(
    "when", [10**300, -(10**20), 1e308, float("nan"), "9999-99-99T99:99:99Z", "x" * 10_000]
)
def test_absurd_times_never_raise(when: object) -> None:
    record = RunRecord.parse({**RUN, "starttime": when, "endtime": when}, "E2 GET /ai/runs")
    assert record.started_at is None


def test_a_billion_steps_are_not_materialised(servers: Callable[..., RawServer]) -> None:
    record = {
        **RUN,
        "status": "Failed",
        "endtime": "2026-01-01T00:00:00Z",
        "steps_total": 10**9,
        "steps_done": 2,
    }
    server = servers(_body_handler(json.dumps([record]).encode()))
    execution = Execution(client_for(server), "ex-1", model="M")
    execution.refresh()
    steps = run_steps(execution, [])
    assert len(steps.steps) == STEPS_LIMIT
    assert "the server claims 1000000000 steps" in steps.steps[-1].message


@pytest.mark.parametrize("bad", ["../../ai/agents", "a/b", "x?y=1", "x#y", "..", "", "a\nb"])
def test_server_ids_with_path_characters_are_refused(
    bad: str, servers: Callable[..., RawServer]
) -> None:
    server = servers(_body_handler(b"{}"))
    with pytest.raises(DAIProtocolError) as info:
        client_for(server).abort_execution(bad)
    one_line(info.value, "execution id", "refused")
    assert server.seen("/execution_service") == []
    with pytest.raises(DAIProtocolError):
        path_id(bad, endpoint="E6", field="run id")
    assert path_id("a b%c", endpoint="E6", field="run id") == "a%20b%25c"


# -- terminal output ------------------------------------------------------------------------


def test_names_with_control_characters_are_escaped() -> None:
    name = "Shop\x1b[2J\x00\u202eevil"
    record = RunRecord.parse({**RUN, "modelname": name, "agentname": name}, "E2")
    assert record.model_name == "Shop\\x1b[2J\\x00\\u202eevil"
    assert escape_control_chars("plain") == "plain"
    Credentials("c", SECRET, "http://dai.example/token")  # as configured: the secret is known
    entry = LogEntry.parse({"message": f"ok \x1b[31m{SECRET}", "severity": "INFO"})
    assert "\x1b" not in entry.format()
    assert SECRET not in entry.format()


def test_test_configuration_names_and_words_with_control_characters_are_escaped() -> None:
    """As for model runs: names and status words of test configurations reach terminals."""
    from pytest_dai.client.test_configs import (
        TestConfig,
        TestConfigResultRecord,
        TestResultRecord,
    )

    name = "Nightly\x1b[2J\x00\u202eevil"
    shown = "Nightly\\x1b[2J\\x00\\u202eevil"
    config = TestConfig.parse({"id": "tc-1", "name": name, "model_name": name, "suite": name})
    assert (config.name, config.model, config.suite) == (shown, shown, shown)
    case = TestResultRecord.parse(
        {"id": "tr-1", "status": "Failed\x1b[0m", "test_case_name": name, "model_name": name}
    )
    assert (case.name, case.model, case.status.word) == (shown, shown, "Failed\\x1b[0m")
    result = TestConfigResultRecord.parse({"id": "r-1", "status": "\u202eFAILED"})
    assert result.status.word == "\\u202eFAILED"
    assert len(TestConfig.parse({"id": "tc-2", "name": "x" * 10_000}).name) <= 200


# -- plugin level: lost starts, planted journals, tracebacks ---------------------------------

LONG_TEST = """
import pytest

@pytest.mark.dai_model("Long", agent="a1")
def test_long():
    pass
"""


@pytest.mark.slow
@pytest.mark.parametrize("how", ["dropped", "timed-out"])
def test_a_start_whose_answer_is_lost_leaves_no_run(
    how: str, pytester: pytest.Pytester, proxied: tuple[DAISimulator, Proxy]
) -> None:
    sim, proxy = proxied
    proxy.rules[("POST", "/execution_service/api/v1/executions")] = (
        "drop" if how == "dropped" else "hang"
    )
    pytester.makepyfile(test_lost=LONG_TEST)
    process = popen(pytester, *FAST, "--dai-request-timeout=2", "-p", "no:randomly")
    output, rc = finish(process, timeout=90)
    assert rc == pytest.ExitCode.TESTS_FAILED, output
    assert len(sim.executions()) == 1, output  # the start did reach the server
    assert eventually(lambda: sim.running_count() == 0, timeout=20), sim.executions()
    lines = [line for line in output.splitlines() if "was found and aborted" in line]
    assert len(lines) >= 1, output
    assert sim.executions()[0]["execution_id"] in lines[0]
    assert not list(pytester.path.glob("**/*.intent.json"))


@pytest.mark.slow
def test_ctrl_c_during_a_start_leaves_no_run(
    pytester: pytest.Pytester, proxied: tuple[DAISimulator, Proxy]
) -> None:
    sim, proxy = proxied
    proxy.rules[("POST", "/execution_service/api/v1/executions")] = "hang"
    pytester.makepyfile(test_lost=LONG_TEST)
    process = popen(pytester, *FAST)
    assert eventually(proxy.forwarded.is_set, timeout=20), "the start never reached the proxy"
    assert eventually(lambda: len(sim.executions()) == 1, timeout=20)
    os.killpg(process.pid, signal.SIGINT)
    output, _ = finish(process, timeout=60)
    assert eventually(lambda: sim.running_count() == 0, timeout=20), (sim.executions(), output)
    assert "was found and aborted" in output, output


@pytest.mark.slow
def test_a_killed_start_is_reaped_by_the_next_session(
    pytester: pytest.Pytester, proxied: tuple[DAISimulator, Proxy]
) -> None:
    sim, proxy = proxied
    proxy.rules[("POST", "/execution_service/api/v1/executions")] = "hang"
    pytester.makepyfile(test_lost=LONG_TEST)
    process = popen(pytester, *FAST)
    assert eventually(proxy.forwarded.is_set, timeout=20)
    assert eventually(lambda: len(sim.executions()) == 1, timeout=20)
    os.killpg(process.pid, signal.SIGKILL)
    finish(process)
    assert sim.running_count() == 1
    assert len(list(pytester.path.glob("**/*.intent.json"))) == 1
    proxy.rules.clear()
    pytester.makepyfile(test_lost="def test_nothing():\n    pass\n")
    output, rc = finish(popen(pytester, *FAST))
    assert rc == 0, output
    assert eventually(lambda: sim.running_count() == 0, timeout=20), output
    assert "was found and aborted" in output, output
    assert not list(pytester.path.glob("**/*.intent.json"))


def _plant(folder: Path, **changes: Any) -> Path:
    entry = {
        "server": os.environ["DAI_URL"],
        "execution_id": "ex-planted",
        "model": "Long",
        "nodeid": "",
        "pid": 2**22 + 17,  # no such process
        "host": socket.gethostname(),
        "started": time.time(),
        "pid_start": None,
        **changes,
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{entry['pid']}-planted.run.json"
    path.write_text(json.dumps(entry))
    return path


@pytest.mark.slow
def test_a_journal_folder_planted_by_someone_else_causes_no_request(
    pytester: pytest.Pytester, sim: DAISimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to make a folder owned by another user")
    tmp = pytester.path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    folder = tmp / f"pytest-dai-journal-{os.getuid()}"
    _plant(folder)
    os.chown(folder, 65534, 65534)
    pytester.makepyfile(test_x="def test_nothing():\n    pass\n")
    output, rc = finish(popen(pytester, *FAST, "-p", "no:cacheprovider"))
    assert rc == 0, output
    assert "is owned by another user" in output, output
    assert sim.abort_requests() == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "changes",
    [
        {"execution_id": "../../ai/agents"},
        {"execution_id": "x?y=1"},
        {"pid": "1; rm -rf"},
        {"started": "NaN"},
    ],
)
def test_a_planted_journal_entry_causes_no_request(
    changes: dict[str, Any], pytester: pytest.Pytester, sim: DAISimulator
) -> None:
    folder = pytester.path / ".pytest_cache" / "d" / "dai-journal"
    _plant(folder, **changes)
    pytester.makepyfile(test_x="def test_nothing():\n    pass\n")
    output, rc = finish(popen(pytester, *FAST))
    assert rc == 0, output
    assert sim.abort_requests() == []
    assert [r.method for r in sim.request_log() if r.method == "DELETE"] == []


@pytest.mark.slow
def test_an_entry_file_owned_by_someone_else_is_ignored(
    pytester: pytest.Pytester, sim: DAISimulator
) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to make a file owned by another user")
    folder = pytester.path / ".pytest_cache" / "d" / "dai-journal"
    os.chown(_plant(folder), 65534, 65534)
    pytester.makepyfile(test_x="def test_nothing():\n    pass\n")
    output, rc = finish(popen(pytester, *FAST))
    assert rc == 0, output
    assert sim.abort_requests() == []


HUNG_TEST = """
def test_hung(dai_session):
    client = dai_session.client
    client.list_models()
"""


@pytest.mark.slow
@pytest.mark.parametrize("how", ["pytest-timeout", "ctrl-c"])
def test_no_token_in_tracebacks_during_a_hung_request(
    how: str, pytester: pytest.Pytester, proxied: tuple[DAISimulator, Proxy]
) -> None:
    sim, proxy = proxied
    proxy.rules[("GET", "/ai/models")] = "swallow"
    pytester.makepyfile(test_hung=HUNG_TEST)
    args = [*FAST, "--showlocals", "--tb=long", "--fulltrace", "--junitxml=junit.xml"]
    if how == "pytest-timeout":
        args += ["--timeout=2", "--timeout-method=signal"]
    process = popen(pytester, *args)
    if how == "ctrl-c":
        assert eventually(lambda: bool(proxy.server.seen("/ai/models")), timeout=20)
        time.sleep(0.3)
        os.killpg(process.pid, signal.SIGINT)
    output, _ = finish(process, timeout=60)
    texts = {"terminal": output}
    if (pytester.path / "junit.xml").exists():
        texts["junit"] = (pytester.path / "junit.xml").read_text()
    tokens = sim.issued_tokens()
    assert tokens, output
    # the traceback did show locals and frames (so the test can fail)
    shown = "client = " if how == "pytest-timeout" else "KeyboardInterrupt"
    assert shown in output, output
    for where, text in texts.items():
        for secret in [SECRET, *tokens]:
            assert secret not in text, f"{where} shows a credential"


def test_headers_in_frames_hide_the_token() -> None:
    """First line of defence: the header value a frame holds prints masked, yet is sent as it
    is."""
    import requests

    from pytest_dai.client.auth import BearerValue, FormBody

    value = BearerValue(f"Bearer {TOKEN}")
    headers = requests.structures.CaseInsensitiveDict({"Authorization": value})
    assert TOKEN not in repr(headers)
    assert TOKEN not in repr(dict(headers))
    assert TOKEN not in repr([value])
    assert value == f"Bearer {TOKEN}"
    assert SECRET not in repr(FormBody.of(client_secret=SECRET))


def test_redaction_pass_masks_reports() -> None:
    """Second line: whatever reaches a report is masked (here a token nobody masked)."""
    from pytest_dai.client.errors import register_secret
    from pytest_dai.glue.report.redaction import redact_report

    register_secret(TOKEN)
    report = pytest.TestReport(
        nodeid="t.py::t",
        location=("t.py", 0, "t"),
        keywords={},
        outcome="failed",
        longrepr=f"headers = {{'Authorization': '{TOKEN}'}}",
        when="call",
        sections=[("Captured stdout call", f"token {TOKEN} and secret-shaped client_secret=abc")],
    )
    redact_report(report)
    assert TOKEN not in str(report.longrepr)
    assert TOKEN not in report.sections[0][1]
    assert "client_secret=abc" not in report.sections[0][1]


@pytest.mark.slow
def test_http_token_url_for_https_server_is_refused_at_start(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(monkeypatch, "https://dai.example", "c", SECRET)
    monkeypatch.setenv("DAI_TOKEN_URL", "http://keycloak.example/token")
    pytester.makepyfile(test_x="def test_nothing():\n    pass\n")
    output, rc = finish(popen(pytester, "--co", "-p", "no:cacheprovider"))
    assert rc == pytest.ExitCode.USAGE_ERROR, output
    lines = [line for line in output.splitlines() if "dai_allow_insecure_token_url" in line]
    assert len(lines) == 1, output
    assert "http://keycloak.example/token" in lines[0]
    allowed = "--dai-allow-insecure-token-url"
    output, rc = finish(popen(pytester, "--co", "-p", "no:cacheprovider", allowed))
    assert rc == 0, output


@pytest.mark.slow
def test_plain_http_server_gets_one_header_warning(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(monkeypatch, "http://dai.example", "c", SECRET)
    pytester.makepyfile(test_x="def test_nothing():\n    pass\n")
    output, rc = finish(popen(pytester, "--co", "-p", "no:cacheprovider"))
    assert rc == 0, output
    assert len([line for line in output.splitlines() if "plain http" in line]) == 1, output
    point_at(monkeypatch, "https://dai.example", "c", SECRET)
    output, rc = finish(popen(pytester, "--co", "-p", "no:cacheprovider"))
    assert "plain http" not in output, output
