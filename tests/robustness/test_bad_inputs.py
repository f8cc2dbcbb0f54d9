"""Bad inputs: each gives a one-line error that names its source, never a traceback.

Three kinds:

- session settings (options, environment, ini file, pyproject.toml, credentials CSV, CA bundle,
  scenario file): pytest stops with a usage error (exit code 4) and one ``ERROR:`` line;
- a bad marker argument, or a name the server does not know: only that test fails, with one
  line, and the other tests of the session still run (one inner session for all of them);
- a server that answers what the client cannot use (not JSON, a field missing, an unknown
  status word with an end time, an error page from a proxy, refused credentials): the DAI test
  fails with one line naming the endpoint and the field, a run already started is aborted, and
  the other tests still run.

In every message ``{path}`` stands for the inner project's folder and ``{url}`` for the
server's address.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from harness.env import point_at
from harness.inner import FAST
from harness.wire import EXECUTIONS, TOKEN_PATH

from pytest_dai.simulator import DAISimulator

from .support import CLIENT_ID, PLAIN_MODULE, PROXY_PAGE, SCENARIO, SECRET, FakeDAI, run_record

FILES = {
    "nocol.csv": "client_id,token_url\nx,http://dai.example.com/token\n",
    "empty.csv": "",
    "header_only.csv": "client_id,client_secret,token_url\n",
    "no_secret.csv": "client_id,client_secret\nx,\n",
    "syntax.json": '{"agents": [',
    "badfield.json": (
        '{"agents": [{"id": "a"}], "models": [{"id": "m", "name": "M", '
        '"steps": [{"name": "s", "duration": "abc"}]}]}'
    ),
    "list.json": "[1, 2]",
    "scenario.txt": "not a scenario",
}

URL_EXPECTED = "expected an http:// or https:// URL"
NUMBER = "expected a number of seconds"
BOOL = "expected true or false (or yes/no, on/off, 1/0)"
RUN_URL = "expected a URL template with the placeholders {{url}}, {{run_id}}, {{execution_id}}"
CSV = "credentials file '{path}/{name}' (from {source})"
CSV_COLUMNS = "(expected columns: client_id, client_secret, token_url)"
SIMULATOR_FILE = (
    "--dai-simulator: expected a scenario .json file, got '{name}' (write --dai-simulator=FILE, "
    "or put --dai-simulator after the test paths)"
)


@dataclass(frozen=True)
class Bad:
    """A bad session setting and the one line pytest must stop with (after ``ERROR: ``)."""

    id: str
    line: str
    args: tuple[str, ...] = ()
    #: Environment changes (None: unset) on top of DAI_URL and DAI_CLIENT_SECRET.
    env: dict[str, str | None] = field(default_factory=dict)
    ini: str = ""
    toml: str = ""


NO_URL: dict[str, str | None] = {"DAI_URL": None}

SESSION_CASES = (
    Bad("url-empty", f"--dai-url from the command line: {URL_EXPECTED}, got ''", ("--dai-url=",)),
    Bad(
        "url-no-host",
        f"--dai-url from the command line: {URL_EXPECTED}, got 'http://'",
        ("--dai-url=http://",),
    ),
    Bad(
        "url-bad-port",
        f"--dai-url from the command line: {URL_EXPECTED}, got 'http://dai.example.com:99999'",
        ("--dai-url=http://dai.example.com:99999",),
    ),
    Bad(
        "url-with-password",
        f"--dai-url from the command line: {URL_EXPECTED} without user:password, "
        "got 'https://***@dai.example.com'",
        ("--dai-url=https://me:hunter2pw@dai.example.com",),
    ),
    Bad(
        "url-with-query",
        f"--dai-url from the command line: {URL_EXPECTED} without a query or fragment, "
        "got 'http://dai.example.com/?a=1'",
        ("--dai-url=http://dai.example.com/?a=1",),
    ),
    Bad(
        "url-with-space",
        f"--dai-url from the command line: {URL_EXPECTED} without spaces, got 'http://dai .com'",
        ("--dai-url=http://dai .com",),
    ),
    Bad(
        "url-unknown-scheme",
        f"DAI_URL from the environment: {URL_EXPECTED}, got 'ftp://dai.example.com'",
        env={"DAI_URL": "ftp://dai.example.com"},
    ),
    Bad(
        "url-no-scheme",
        f"DAI_URL from the environment: {URL_EXPECTED}, got 'dai.example.com'",
        env={"DAI_URL": "dai.example.com"},
    ),
    Bad(
        "url-ini",
        f"dai_url from the ini file: {URL_EXPECTED}, got 'dai.example.com:8000'",
        env=NO_URL,
        ini="dai_url = dai.example.com:8000",
    ),
    Bad(
        "url-toml-list",
        "dai_url from the ini file: expected a single value, got \"['https://dai.example.com']\"",
        env=NO_URL,
        toml='dai_url = ["https://dai.example.com"]',
    ),
    Bad(
        "token-url",
        f"DAI_TOKEN_URL from the environment: {URL_EXPECTED}, got 'mailto:dai@example.com'",
        env={"DAI_TOKEN_URL": "mailto:dai@example.com"},
    ),
    Bad(
        "realm-slash",
        "--dai-realm from the command line: expected a realm name without spaces, '/', '?', "
        "'#' or '%', got 'a/b'",
        ("--dai-realm=a/b",),
    ),
    Bad(
        "realm-space",
        "DAI_REALM from the environment: expected a realm name without spaces, '/', '?', "
        "'#' or '%', got 'my realm'",
        env={"DAI_REALM": "my realm"},
    ),
    Bad(
        "client-id-blank",
        "--dai-client-id from the command line: expected a non-empty value, got '  '",
        ("--dai-client-id=  ",),
    ),
    Bad(
        "csv-missing-column",
        CSV.format(path="{path}", name="nocol.csv", source="--dai-credentials on the command line")
        + f": missing column client_secret {CSV_COLUMNS}",
        ("--dai-credentials=nocol.csv",),
    ),
    Bad(
        "csv-empty",
        CSV.format(path="{path}", name="empty.csv", source="DAI_CREDENTIALS in the environment")
        + ": is empty, expected a header row and a row of values",
        env={"DAI_CREDENTIALS": "empty.csv"},
    ),
    Bad(
        "csv-header-only",
        CSV.format(path="{path}", name="header_only.csv", source="dai_credentials in the ini file")
        + ": has a header but no row of values",
        ini="dai_credentials = header_only.csv",
    ),
    Bad(
        "csv-empty-secret",
        CSV.format(
            path="{path}", name="no_secret.csv", source="--dai-credentials on the command line"
        )
        + ": column client_secret is empty",
        ("--dai-credentials=no_secret.csv",),
    ),
    Bad(
        "csv-no-such-file",
        CSV.format(
            path="{path}", name="missing.csv", source="--dai-credentials on the command line"
        )
        + ": no such file",
        ("--dai-credentials=missing.csv",),
    ),
    Bad(
        "csv-directory",
        "credentials file '{path}' (from --dai-credentials on the command line): is a directory, "
        "expected a CSV file",
        ("--dai-credentials=.",),
    ),
    Bad(
        "ca-cert-missing",
        "--dai-ca-cert from the command line: expected an existing CA bundle (PEM) file or "
        "directory, but {path}/missing-ca.pem does not exist, got 'missing-ca.pem'",
        ("--dai-ca-cert=missing-ca.pem",),
    ),
    Bad(
        "ca-cert-missing-env",
        "DAI_CA_CERT from the environment: expected an existing CA bundle (PEM) file or "
        "directory, but /nonexistent/ca.pem does not exist, got '/nonexistent/ca.pem'",
        env={"DAI_CA_CERT": "/nonexistent/ca.pem"},
    ),
    Bad(
        "request-timeout-negative",
        f"--dai-request-timeout from the command line: {NUMBER} > 0, got '-1'",
        ("--dai-request-timeout=-1",),
    ),
    Bad(
        "request-timeout-inf",
        f"dai_request_timeout from the ini file: {NUMBER} > 0, got 'inf'",
        ini="dai_request_timeout = inf",
    ),
    Bad(
        "timeout-not-a-number",
        f"--dai-timeout from the command line: {NUMBER} >= 0, got 'soon'",
        ("--dai-timeout=soon",),
    ),
    Bad(
        "timeout-nan",
        f"--dai-timeout from the command line: {NUMBER} >= 0, got 'nan'",
        ("--dai-timeout=nan",),
    ),
    Bad(
        "timeout-negative-ini",
        f"dai_timeout from the ini file: {NUMBER} >= 0, got '-5'",
        ini="dai_timeout = -5",
    ),
    Bad(
        "timeout-negative-toml",
        f"dai_timeout from the ini file: {NUMBER} >= 0, got '-5'",
        toml="dai_timeout = -5",
    ),
    Bad(
        "poll-interval-zero",
        "--dai-poll-interval from the command line: expected a number > 0, got '0'",
        ("--dai-poll-interval=0",),
    ),
    Bad(
        "retries-zero",
        "--dai-request-retries from the command line: expected a whole number of attempts >= 1, "
        "got '0'",
        ("--dai-request-retries=0",),
    ),
    Bad(
        "retries-fraction-toml",
        "dai_request_retries from the ini file: expected a whole number of attempts >= 1, "
        "got '2.5'",
        toml="dai_request_retries = 2.5",
    ),
    Bad(
        "backoff-not-a-number",
        "--dai-backoff-factor from the command line: expected a number >= 0, got 'fast'",
        ("--dai-backoff-factor=fast",),
    ),
    Bad(
        "backoff-negative",
        "--dai-backoff-factor from the command line: expected a number >= 0, got '-1'",
        ("--dai-backoff-factor=-1",),
    ),
    Bad(
        "bool-sigterm",
        f"dai_handle_sigterm from the ini file: {BOOL}, got 'maybe'",
        ini="dai_handle_sigterm = maybe",
    ),
    Bad(
        "bool-reap-orphans",
        f"dai_reap_orphans from the ini file: {BOOL}, got 'sometimes'",
        ini="dai_reap_orphans = sometimes",
    ),
    Bad(
        "bool-reap-orphans-toml",
        f"dai_reap_orphans from the ini file: {BOOL}, got '2'",
        toml="dai_reap_orphans = 2",
    ),
    Bad(
        "run-url-unknown-placeholder",
        f"dai_run_url from the ini file: {RUN_URL}; unknown placeholder {{{{run}}}}, "
        "got '{{url}}/runs/{{run}}'",
        ini="dai_run_url = {url}/runs/{run}",
    ),
    Bad(
        "run-url-unbalanced",
        f"dai_run_url from the ini file: {RUN_URL} (expected '}}}}' before end of string), "
        "got '{{url}}/runs/{{run_id'",
        ini="dai_run_url = {url}/runs/{run_id",
    ),
    Bad(
        "run-url-not-http",
        f"dai_run_url from the ini file: {RUN_URL}, giving an http:// or https:// address, "
        "got 'runs/{{run_id}}'",
        ini="dai_run_url = runs/{run_id}",
    ),
    Bad(
        "junit-steps-empty",
        "--dai-junit-steps from the command line: expected a file path, got ''",
        ("--dai-junit-steps=",),
    ),
    Bad(
        "artifacts-empty",
        "--dai-artifacts from the command line: expected a file path, got ''",
        ("--dai-artifacts=",),
    ),
    Bad(
        "parameters-file-empty",
        "--dai-parameters-file from the command line: expected a file path, got ''",
        ("--dai-parameters-file=",),
    ),
    Bad(
        "agent-blank",
        "--dai-agent from the command line: expected a non-empty value, got ''",
        ("--dai-agent=",),
    ),
    Bad(
        "dist-unknown",
        "--dai-dist from the command line: expected agent or no, got 'agents'",
        ("--dai-dist=agents",),
    ),
    Bad(
        "prestart-not-a-bool",
        f"dai_prestart from the ini file: {BOOL}, got 'sometimes'",
        ini="dai_prestart = sometimes",
    ),
    Bad(
        "prestart-limit-zero",
        "--dai-prestart-limit from the command line: expected a whole number >= 1, got '0'",
        ("--dai-prestart-limit=0",),
    ),
    Bad(
        "offline-agent-unknown",
        "--dai-offline-agent from the command line: expected wait or fail, got 'skip'",
        ("--dai-offline-agent=skip",),
    ),
    Bad(
        "list-unknown",
        "--dai-list from the command line: expected models or agents or configs, got 'runs'",
        ("--dai-list=runs",),
    ),
    Bad(
        "auth-unknown",
        "--dai-auth from the command line: expected keycloak or v2, got 'basic'",
        ("--dai-auth=basic",),
    ),
    Bad(
        "api-version-unknown",
        "--dai-api-version from the command line: expected auto, v1 or v2, got 'v3'",
        ("--dai-api-version=v3",),
    ),
    Bad(
        "api-version-env",
        "DAI_API_VERSION from the environment: expected auto, v1 or v2, got 'latest'",
        env={"DAI_API_VERSION": "latest"},
    ),
    Bad(
        "space-blank",
        "--dai-space from the command line: expected a non-empty value, got '  '",
        ("--dai-space=  ",),
    ),
    Bad(
        "result-url-unknown-placeholder",
        "dai_result_url from the ini file: expected a URL template with the placeholders "
        "{{url}}, {{id}}, {{task_instance_id}}, {{test_config_id}}; unknown placeholder "
        "{{nope}}, got '{{url}}/results/{{nope}}'",
        ini="dai_result_url = {url}/results/{nope}",
    ),
    Bad(
        "bool-allow-insecure-token-url",
        f"dai_allow_insecure_token_url from the ini file: {BOOL}, got 'maybe'",
        ini="dai_allow_insecure_token_url = maybe",
    ),
    Bad(
        "scenario-syntax",
        "--dai-simulator: {path}/syntax.json: invalid JSON at line 1, column 13: Expecting value",
        ("--dai-simulator=syntax.json",),
    ),
    Bad(
        "scenario-field",
        "--dai-simulator: {path}/badfield.json: models[0].steps[0].duration: expected a number "
        '>= 0, got "abc"',
        ("--dai-simulator=badfield.json",),
    ),
    Bad(
        "scenario-not-object",
        "--dai-simulator: {path}/list.json: expected an object, got [1, 2]",
        ("--dai-simulator=list.json",),
    ),
    Bad(
        "scenario-missing",
        "--dai-simulator: scenario file 'missing.json' does not exist",
        ("--dai-simulator=missing.json",),
    ),
    Bad(
        "scenario-not-json",
        SIMULATOR_FILE.format(name="scenario.txt"),
        ("--dai-simulator=scenario.txt",),
    ),
)


def clean(output: str) -> None:
    """No traceback, no frame of an installed library, no secret."""
    assert "Traceback" not in output, output
    assert "site-packages" not in output, output
    assert SECRET not in output, output


@pytest.mark.slow
@pytest.mark.parametrize("case", SESSION_CASES, ids=[case.id for case in SESSION_CASES])
def test_bad_session_setting_is_one_usage_error_line(
    case: Bad, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(monkeypatch, "http://dai.invalid", CLIENT_ID, SECRET)
    for name, value in case.env.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    for name, text in FILES.items():
        (pytester.path / name).write_text(text, encoding="utf-8")
    if case.ini:
        pytester.makeini("[pytest]\n" + case.ini)
    if case.toml:
        pytester.makepyprojecttoml("[tool.pytest.ini_options]\n" + case.toml)
    pytester.makepyfile(test_plain=PLAIN_MODULE)

    result = pytester.runpytest_subprocess(*case.args, "test_plain.py")

    output = result.stdout.str() + result.stderr.str()
    clean(output)
    assert "hunter2pw" not in output
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output
    errors = [line for line in result.errlines if line.startswith("ERROR:")]
    assert errors == ["ERROR: " + case.line.format(path=pytester.path)], output
    assert "test_plain" not in output


# --------------------------------------------------------------------------------------------
# Bad marker arguments (collection errors) and unknown names: one inner session, each test
# fails on its own.

MARKER_MODULE = """
import pytest

@pytest.mark.dai_model("Short", agent="a1")
def test_good(dai_execution):
    assert dai_execution.passed

def test_plain():
    pass

@pytest.mark.dai_model("Short", agnet="a1")
def test_unknown_keyword():
    pass

@pytest.mark.dai_model(42)
def test_model_number():
    pass

@pytest.mark.dai_model("  ")
def test_model_blank():
    pass

@pytest.mark.dai_model()
def test_no_model():
    pass

@pytest.mark.dai_model("Short", "a1")
def test_two_positional():
    pass

@pytest.mark.dai_model("Short", agent=["a1"])
def test_agent_list():
    pass

@pytest.mark.dai_model("Short", timeout=-1)
def test_timeout_negative():
    pass

@pytest.mark.dai_model("Short", timeout="soon")
def test_timeout_text():
    pass

@pytest.mark.dai_model("Short", timeout=float("nan"))
def test_timeout_nan():
    pass

@pytest.mark.dai_model("Short", sut_criteria=[1, 2])
def test_criteria_numbers():
    pass

@pytest.mark.dai_model("Short", step_pause_time="abc")
def test_pause_text():
    pass

@pytest.mark.dai_model("Short", min_steps=-1)
def test_min_steps_negative():
    pass

@pytest.mark.dai_model("Short", test_case=-3)
def test_test_case_negative():
    pass

def test_execution_without_marker(dai_execution):
    pass

@pytest.mark.dai_model("Shrot", agent="a2")
def test_unknown_model():
    pass

@pytest.mark.dai_model("Short", agent="a99")
def test_unknown_agent():
    pass

@pytest.mark.dai_model("Short", agent="a3", test_case=999)
def test_unknown_test_case():
    pass
"""

MARK = "DAIConfigError: @pytest.mark.dai_model on test_markers.py::{test}: "

MARKER_CASES = {
    "test_unknown_keyword": MARK + "unknown keyword 'agnet', did you mean 'agent'? (known: "
    "agent, test_case, sut, sut_criteria, rerun, step_pause_time, timeout, min_steps, script, "
    "asset, prestart)",
    "test_model_number": MARK + "model must be a model id or name string, got 42 (int)",
    "test_model_blank": MARK + "model must be a model id or name string, got an empty string",
    "test_no_model": MARK + "model is required (the first positional argument)",
    "test_two_positional": MARK + "too many positional arguments (2): only the model is "
    "positional, give the others as keywords (agent=..., timeout=...)",
    "test_agent_list": MARK + "agent must be an agent id or name string, got ['a1'] (list)",
    "test_timeout_negative": MARK + "timeout: expected a number of seconds >= 0, got -1",
    "test_timeout_text": MARK + "timeout: expected a number of seconds >= 0, got 'soon'",
    "test_timeout_nan": MARK + "timeout: expected a number of seconds >= 0, got nan",
    "test_criteria_numbers": MARK
    + "sut_criteria: expected a list of non-empty strings, got [1, 2] (list)",
    "test_pause_text": MARK + "step_pause_time: expected a whole number of seconds >= 0, got 'abc'",
    "test_min_steps_negative": MARK + "min_steps: expected a whole number >= 0, got -1 (int)",
    "test_test_case_negative": MARK + "test_case: expected a test case id (an integer >= 0), "
    "got -3",
    "test_execution_without_marker": "usage error: test_markers.py::test_execution_without_marker:"
    " the dai_execution fixture needs @pytest.mark.dai_model(...) on the test; to start runs by "
    "hand, use the dai_session fixture (dai_session.start(model))",
    "test_unknown_model": "DAINotFoundError: unknown model 'Shrot': not among the models listed "
    "by GET DAI_URL/ai/models; close matches: 'Short'",
    "test_unknown_agent": "DAINotFoundError: unknown agent 'a99': not among the agents listed by "
    "GET DAI_URL/ai/agents; known agents: 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8'",
    "test_unknown_test_case": "DAINotFoundError: starting the run (POST DAI_URL/execution_service/"
    "api/v1/executions): 404 unknown model, agent or test case: Test case 999 not found in "
    "model 'Short'",
}


def failure_blocks(output: str) -> dict[str, list[str]]:
    """The non-empty lines of each test's failure or error section of the terminal output, up
    to the next section (a captured log, another test, the summary)."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        header = re.fullmatch(r"_{3,} (?:ERROR at \w+ of )?(\S+) _{3,}", line)
        collecting = re.fullmatch(r"_{3,} ERROR collecting \S+ _{3,}", line)
        if collecting:
            current = []  # a bad marker: the block is the test's once its line names it
        elif header:
            current = blocks.setdefault(header.group(1), [])
        elif re.match(r"^(-{3,}|={3,}|_{3,})", line):
            current = None
        elif current is not None and line.strip():
            named = re.search(r" on [^\s:]+::(\w+): ", line)
            if not current and named:
                blocks[named.group(1)] = current
            current.append(line)
    return blocks


def inner_environment(url: str, secret: str = SECRET) -> dict[str, str]:
    """The process environment for an inner pytest started without pytester."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAI_", "PYTEST_ADDOPTS"))}
    env.update(DAI_URL=url, DAI_CLIENT_ID=CLIENT_ID, DAI_CLIENT_SECRET=secret)
    return env


@pytest.fixture(scope="module")
def marker_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    """One inner session with every bad marker: its exit code and output."""
    project = tmp_path_factory.mktemp("markers")
    (project / "test_markers.py").write_text(MARKER_MODULE, encoding="utf-8")
    with DAISimulator(SCENARIO, port=0) as simulator:
        done = subprocess.run(
            [
                *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *FAST),
                *("--continue-on-collection-errors", "test_markers.py"),
            ],
            cwd=project,
            env=inner_environment(simulator.url),
            capture_output=True,
            timeout=120,
            check=False,
        )
        output = (done.stdout + done.stderr).decode(errors="replace")
        yield done.returncode, output.replace(simulator.url, "DAI_URL")


@pytest.mark.slow
def test_bad_markers_are_collection_errors_of_their_own_test(
    marker_session: tuple[int, str],
) -> None:
    rc, output = marker_session
    clean(output)
    assert rc == pytest.ExitCode.TESTS_FAILED, output
    assert re.search(r"\b2 passed\b", output), output
    assert f"{len(MARKER_CASES) - 3} errors" in output, output
    assert "3 failed" in output, output
    bad_markers = [test for test, line in MARKER_CASES.items() if line.startswith(MARK)]
    assert output.count("ERROR collecting test_markers.py") == len(bad_markers), output
    for test in bad_markers:
        assert f"ERROR test_markers.py::{test} - DAIConfigError" in output, output


@pytest.mark.slow
@pytest.mark.parametrize("test", list(MARKER_CASES))
def test_bad_marker_is_one_line(test: str, marker_session: tuple[int, str]) -> None:
    _, output = marker_session
    expected = MARKER_CASES[test].format(test=test)
    assert failure_blocks(output).get(test) == [expected], output


# --------------------------------------------------------------------------------------------
# Servers that answer what the client cannot use, and refused or missing credentials.

SERVER_MODULE = """
import pytest

@pytest.mark.dai_model("Short", agent="a1")
def test_dai():
    pass

def test_plain():
    pass
"""

TOKEN_WHERE = "token endpoint {url}" + TOKEN_PATH
STARTING = "starting the run (POST {url}" + EXECUTIONS + ")"
JSON = "application/json"
HTML = "text/html"


@dataclass(frozen=True)
class Answer:
    """A server answer the client cannot use, and the one line the DAI test fails with."""

    id: str
    line: str
    #: Sets up the server: a FakeDAI's answers, or the simulator (faults, dialect, env).
    setup: Callable[[Any, pytest.MonkeyPatch], None]
    fake: bool = True
    args: tuple[str, ...] = ()
    #: Whether the run was started, so the failed test must have aborted it (E3).
    aborts: bool = False


def _answer(method: str, path: str, status: int, kind: str, body: Any) -> Callable[..., None]:
    def setup(server: FakeDAI, monkeypatch: pytest.MonkeyPatch) -> None:
        server.answers[(method, path)] = (status, kind, body)

    return setup


def _sim(**faults: Any) -> Callable[..., None]:
    def setup(server: DAISimulator, monkeypatch: pytest.MonkeyPatch) -> None:
        server.set_faults(**faults)

    return setup


def _sim_html(**faults: Any) -> Callable[..., None]:
    def setup(server: DAISimulator, monkeypatch: pytest.MonkeyPatch) -> None:
        server.set_faults(**faults)
        server.set_dialect(html_errors=True)

    return setup


def _env(**env: str | None) -> Callable[..., None]:
    def setup(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        for name, value in env.items():
            if value is None:
                monkeypatch.delenv(name)
            else:
                monkeypatch.setenv(name, value)

    return setup


def _dialect(**fields: Any) -> Callable[..., None]:
    def setup(server: DAISimulator, monkeypatch: pytest.MonkeyPatch) -> None:
        server.set_dialect(**fields)

    return setup


def _without(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != key}


def _closed_port(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("DAI_URL", f"http://127.0.0.1:{port}")


SERVER_CASES = (
    Answer(
        "no-secret",
        "DAIConfigError: no DAI client secret: set DAI_CLIENT_SECRET, or give the API Access CSV "
        "with --dai-credentials or DAI_CREDENTIALS",
        _env(DAI_CLIENT_SECRET=None),
        fake=False,
    ),
    Answer(
        "no-server",
        "DAIConfigError: no DAI server configured: give --dai-url or DAI_URL (or dai_url in the "
        "ini file), or run with --dai-simulator",
        _env(DAI_URL=None),
        fake=False,
    ),
    Answer(
        "wrong-secret",
        f"DAIAuthError: {TOKEN_WHERE}: 401 Invalid client or Invalid client credentials (client "
        f"id '{CLIENT_ID}'; check the client secret)",
        _env(DAI_CLIENT_SECRET="wrong-" + SECRET[::-1]),
        fake=False,
    ),
    Answer(
        "unknown-realm",
        "DAIHTTPError: token endpoint {url}/auth/realms/nope/protocol/openid-connect/token: "
        "404 Realm does not exist",
        _env(DAI_REALM="nope"),
        fake=False,
    ),
    Answer(
        "licence-exhausted",
        f"DAILicenceError: {TOKEN_WHERE}: 403 Not enough available concurrent user licenses "
        "(no concurrent user licence is free)",
        _sim(licence_exhausted=True),
        fake=False,
    ),
    Answer(
        "server-unreachable",
        "DAIConnectionError: DAI server {url}: connection refused (nothing listens on that "
        "port: is the server running, and the port right?)",
        _closed_port,
        fake=False,
        args=("--dai-request-retries=2", "--dai-backoff-factor=0"),
    ),
    Answer(
        "proxy-error-page",
        "DAIHTTPError: listing models (GET {url}/ai/models): 503 503 Service Unavailable 503 "
        "Service Unavailable nginx",
        _sim_html(burst=10, fault_paths=["/ai/models"]),
        fake=False,
        args=("--dai-request-retries=2", "--dai-backoff-factor=0"),
    ),
    Answer(
        "token-not-json",
        f"DAIProtocolError: {TOKEN_WHERE}: answer is not JSON: 'Proxy Sign in'",
        _answer("POST", TOKEN_PATH, 200, HTML, PROXY_PAGE),
    ),
    Answer(
        "token-without-access-token",
        f"DAIProtocolError: {TOKEN_WHERE}: answer has no access_token field",
        _answer("POST", TOKEN_PATH, 200, JSON, {"token_type": "Bearer", "expires_in": 300}),
    ),
    Answer(
        "models-not-json",
        "DAIProtocolError: listing models (GET {url}/ai/models): answer is not JSON (text/html): "
        "'Proxy Sign in'",
        _answer("GET", "/ai/models", 200, HTML, PROXY_PAGE),
    ),
    Answer(
        "models-not-a-list",
        "DAIProtocolError: listing models (GET {url}/ai/models): expected a list or an object "
        "with one of items, results, data, got an object with keys models",
        _answer("GET", "/ai/models", 200, JSON, {"models": [{"id": "m-short"}]}),
    ),
    Answer(
        "model-without-id",
        "DAIProtocolError: listing models (GET {url}/ai/models): model record has no id field",
        _answer("GET", "/ai/models", 200, JSON, [{"name": "Short"}]),
    ),
    Answer(
        "start-without-id",
        f"DAIProtocolError: {STARTING}: answer has no execution id (looked for id, execution_id, "
        "execution_status_id)",
        _answer("POST", EXECUTIONS, 201, JSON, {"model_id": "m-short", "status": "Queued"}),
    ),
    Answer(
        "start-not-json",
        f"DAIProtocolError: {STARTING}: answer is not JSON (text/html): 'Proxy Sign in'",
        _answer("POST", EXECUTIONS, 200, HTML, PROXY_PAGE),
    ),
    Answer(
        "start-a-list",
        f"DAIProtocolError: {STARTING}: expected an object with the execution id, got list",
        _answer("POST", EXECUTIONS, 201, JSON, [{"id": "ex-1"}]),
    ),
    Answer(
        "record-without-status",
        "DAIProtocolError: reading the run's status (GET {url}/ai/runs): run record has no status "
        "field (looked for status or teststatus; fields: "
        "execution_id, id, modelname, starttime)",
        _answer(
            "GET", "/ai/runs", 200, JSON, [_without(run_record("Running", ended=False), "status")]
        ),
        aborts=True,
    ),
    Answer(
        "runs-proxy-502",
        "DAIHTTPError: reading the run's status (GET {url}/ai/runs): 502 Proxy Sign in",
        _answer("GET", "/ai/runs", 502, HTML, PROXY_PAGE),
        args=("--dai-request-retries=2", "--dai-backoff-factor=0"),
        aborts=True,
    ),
    Answer(
        "unknown-status-word-ended",
        "DAIRunError: DAI run of model 'Short' (execution ex-1) ended in error: status 'Kaput' (a "
        "status word pytest-dai does not know, counted as error)",
        _answer("GET", "/ai/runs", 200, JSON, [run_record("Kaput")]),
    ),
    Answer(
        "unknown-status-word-dialect",
        "DAIRunError: DAI run of model 'Short' (execution {execution}) ended in error: status "
        "'Kaput' (a status word pytest-dai does not know, counted as error)",
        _dialect(status_words={"Passed": "Kaput"}),
        fake=False,
    ),
)


@pytest.mark.slow
@pytest.mark.parametrize("case", SERVER_CASES, ids=[case.id for case in SERVER_CASES])
def test_bad_server_answer_fails_only_the_dai_test_with_one_line(
    case: Answer,
    pytester: pytest.Pytester,
    make_sim: Callable[..., DAISimulator],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytester.makepyfile(test_server=SERVER_MODULE)
    with FakeDAI() as fake:
        server: Any = fake if case.fake else make_sim()
        if case.fake:
            point_at(monkeypatch, fake.url, CLIENT_ID, SECRET)
        case.setup(server, monkeypatch)
        url = os.environ.get("DAI_URL", "")

        result = pytester.runpytest_subprocess(*FAST, *case.args, "test_server.py")

    output = result.stdout.str() + result.stderr.str()
    clean(output)
    result.assert_outcomes(passed=1, **({"errors": 1} if "Config" in case.line else {"failed": 1}))
    block = failure_blocks(output).get("test_dai", [])
    execution = "" if case.fake else next(iter(_execution_ids(server)), "")
    assert block[:1] == [case.line.format(url=url, execution=execution)], output
    if case.aborts:
        assert ("DELETE", EXECUTIONS + "/ex-1") in fake.requests, fake.requests


def _execution_ids(simulator: DAISimulator) -> list[str]:
    return [str(ex["execution_id"]) for ex in simulator.executions()]


def spellings(setting: str) -> tuple[str, ...]:
    """The option, ini and environment names of a setting (``request_timeout``)."""
    return (f"--dai-{setting.replace('_', '-')}", f"dai_{setting}", f"DAI_{setting.upper()}")


def named_in(name: str, line: str) -> bool:
    """Whether ``line`` names ``name`` as a whole word (``--dai-url`` is not in ``--dai-urls``)."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", line) is not None


#: Settings whose bad input is, on purpose, not a usage error (and where that is tested).
NOT_A_USAGE_ERROR = {
    # read from nowhere but DAI_CLIENT_SECRET and the CSV; in an ini file a warning says so
    "client_secret": "tests/plugin/test_marker_collection.py",
}


def test_every_setting_that_takes_a_value_has_a_bad_input(pytester: pytest.Pytester) -> None:
    # The plugin's own list (pytest --help): every option that takes a value and every ini
    # setting. A new setting without a bad-value case above makes this test fail.
    result = pytester.runpytest("--help")
    text = result.stdout.str()
    settings = {name for name in re.findall(r"^  dai_(\w+) \(", text, re.M)}
    settings |= {
        option.replace("-", "_") for option in re.findall(r"^  --dai-([\w-]+)=", text, re.M)
    }
    assert {"url", "credentials", "poll_interval", "simulator"} <= settings, text
    untried = sorted(
        setting
        for setting in settings - NOT_A_USAGE_ERROR.keys()
        if not any(
            named_in(name, case.line) for case in SESSION_CASES for name in spellings(setting)
        )
    )
    assert untried == []
