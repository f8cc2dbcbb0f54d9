"""Settings of pytest-dai: options, ini keys, environment, credentials CSV, header, marker."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pytest_dai.client.errors import DAIConfigError
from pytest_dai.client.start_body import Asset
from pytest_dai.glue.markers.model import ModelSpec, parse_marker
from pytest_dai.glue.settings.resolve import resolve_settings
from pytest_dai.glue.settings.table import ROWS as TABLE_ROWS
from pytest_dai.glue.settings.values import MISSING_SERVER_MESSAGE, SETTINGS_KEY, Settings

SECRET = "s3cr3t-Value-never-shown"
TOKEN_SUFFIX = "/auth/realms/eggplant/protocol/openid-connect/token"


@pytest.fixture(autouse=True)
def _no_dai_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("DAI_"):
            monkeypatch.delenv(name)


def resolve(
    pytester: pytest.Pytester,
    *args: str,
    ini: str = "",
    env: dict[str, str] | None = None,
) -> Settings:
    """Parse ``args`` and an ini file in ``pytester.path``, then resolve with ``env`` only."""
    if ini:
        pytester.makeini("[pytest]\n" + ini)
    config = pytester.parseconfig(*args)
    return resolve_settings(config, environ=env or {})


def write_csv(path: Path, *, client_id: str = "csv-id", token_url: str | None = None) -> Path:
    header = "client_id,client_secret" + (",token_url" if token_url is not None else "")
    row = f"{client_id},{SECRET}" + (f",{token_url}" if token_url is not None else "")
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# Precedence: command line > environment > ini file > default, for every row of the table.

# name: ((cli value, env value, ini value), (expected cli, env, ini), default); where each
# setting may be given (option, variable, ini key) comes from the product's settings table.
ROWS: dict[str, tuple[tuple[Any, ...], tuple[Any, ...], Any]] = {
    "url": (
        ("https://cli.example/", "https://env.example:8000", "http://ini.example/base/"),
        ("https://cli.example", "https://env.example:8000", "http://ini.example/base"),
        None,
    ),
    "realm": (("rc", "re", "ri"), ("rc", "re", "ri"), "eggplant"),
    "token_url": (
        ("https://c.example/t", "https://e.example/t/", "https://i.example/t"),
        ("https://c.example/t", "https://e.example/t", "https://i.example/t"),
        None,
    ),
    "client_id": (
        ("id-c", "id-e", "id-i"),
        ("id-c", "id-e", "id-i"),
        "client:dai:agent:integration",
    ),
    "client_secret": ((None, SECRET, None), (None, SECRET, None), None),
    "request_timeout": (("11", None, "13.5"), (11.0, None, 13.5), 30.0),
    "request_retries": (("2", None, "3"), (2, None, 3), 5),
    "backoff_factor": (("0.1", None, "0"), (0.1, None, 0.0), 0.5),
    "ca_cert": (("cli.pem", "env.pem", "ini.pem"), ("cli.pem", "env.pem", "ini.pem"), None),
    "timeout": (("0", None, "90"), (0.0, None, 90.0), 7200.0),
    "poll_interval": (("0.5", None, "2"), (0.5, None, 2.0), 5.0),
    "dry_run": ((True, None, None), (True, None, None), False),
    "rerun_failed": ((True, None, None), (True, None, None), False),
    "reap_orphans_only": ((True, None, None), (True, None, None), False),
    "simulator": ((True, None, None), ("", None, None), None),
    "run_url": (
        (None, None, "https://ui.example/{execution_id}/{run_id}"),
        (None, None, "https://ui.example/{execution_id}/{run_id}"),
        "{url}/runs/{run_id}",
    ),
    "handle_sigterm": ((None, None, "off"), (None, None, False), True),
    "junit_steps": (("cli.xml", None, "ini.xml"), ("cli.xml", None, "ini.xml"), None),
    "reap_orphans": ((None, None, "No"), (None, None, False), True),
    "result_url": (
        (None, None, "https://ui.example/r/{id}?t={task_instance_id}"),
        (None, None, "https://ui.example/r/{id}?t={task_instance_id}"),
        "{url}/controller/results/runs/{id}",
    ),
    "dist": (("agent", None, "AGENT"), ("agent", None, "agent"), "no"),
    "allow_insecure_token_url": ((True, None, "yes"), (True, None, True), False),
    "prestart": ((True, None, "yes"), (True, None, True), False),
    "prestart_limit": (("3", None, "7"), (3, None, 7), 64),
    "artifacts": (
        ("cli-evidence", None, "ini-evidence"),
        ("cli-evidence", None, "ini-evidence"),
        "dai-artifacts",
    ),
    "agent": (
        ("cli-agent", "env-agent", "ini agent"),
        ("cli-agent", "env-agent", "ini agent"),
        None,
    ),
    "auth": (("v2", "V2", "Keycloak"), ("v2", "v2", "keycloak"), "keycloak"),
    "offline_agent": (("fail", None, "FAIL"), ("fail", None, "fail"), "wait"),
    "list_names": (("agents", None, None), ("agents", None, None), None),
    "api_version": (("v1", "V2", " Auto "), ("v1", "v2", "auto"), "auto"),
    "space": (("QA", "Shared space", "Team A"), ("QA", "Shared space", "Team A"), None),
}
PATH_SETTINGS = {"ca_cert", "junit_steps", "artifacts"}
LEVELS = ("command line", "environment", "ini file", "default")


def where(name: str) -> tuple[str | None, str | None, str | None]:
    """The option, environment variable and ini key of setting ``name`` (the table's)."""
    row = TABLE_ROWS[name]
    return row.option, row.env, row.ini


def _cases() -> list[Any]:
    cases = []
    for name in ROWS:
        option, env, ini = where(name)
        present = (option is not None, env is not None, ini is not None, True)
        for index, level in enumerate(LEVELS):
            if present[index]:
                cases.append(pytest.param(name, index, id=f"{name}-{level.replace(' ', '_')}"))
    return cases


def test_every_setting_has_a_precedence_row() -> None:
    fields = {f for f in Settings.__dataclass_fields__ if f != "sources"}
    # The CSV has its own tests below, the parameters file in tests/plugin/test_test_configs.py.
    assert fields - set(ROWS) == {"credentials", "parameters_file"}


@pytest.mark.parametrize(("name", "level"), _cases())
def test_precedence(pytester: pytest.Pytester, name: str, level: int) -> None:
    """The chosen level wins over every lower level that is also given."""
    option, env_name, ini_name = where(name)
    given, expected, default = ROWS[name]
    for pem in ("cli.pem", "env.pem", "ini.pem"):
        pytester.path.joinpath(pem).write_text("PEM\n")
    args: list[str] = []
    env: dict[str, str] = {}
    ini = ""
    if level <= 0 and option is not None:
        args = [option] if given[0] is True else [f"{option}={given[0]}"]
    if level <= 1 and env_name is not None:
        env[env_name] = given[1]
    if level <= 2 and ini_name is not None:
        ini = f"{ini_name} = {given[2]}\n"
    settings = resolve(pytester, *args, ini=ini, env=env)
    value = getattr(settings, name)
    if level == 3:
        assert value == default
        assert settings.sources[name] == "default"
        return
    want = expected[level]
    if name in PATH_SETTINGS:
        want = str(pytester.path / want)
    assert value == want
    label = (option, env_name, ini_name)[level]
    assert settings.sources[name] == f"{LEVELS[level]} ({label})"


def test_defaults_without_anything(pytester: pytest.Pytester) -> None:
    settings = resolve(pytester)
    assert settings == Settings(sources=settings.sources)
    assert set(settings.sources.values()) == {"default"}
    assert settings.url is None
    assert settings.token_url is None
    assert settings.client_secret is None


def test_token_url_is_derived_from_url_and_realm(pytester: pytest.Pytester) -> None:
    settings = resolve(pytester, "--dai-url=https://dai.example:8000/", env={"DAI_REALM": "acme"})
    assert (
        settings.token_url
        == "https://dai.example:8000/auth/realms/acme/protocol/openid-connect/token"
    )
    assert settings.sources["token_url"] == "derived from url and realm"
    assert resolve(pytester, "--dai-url=http://h").token_url == "http://h" + TOKEN_SUFFIX


def test_empty_environment_variable_counts_as_unset(pytester: pytest.Pytester) -> None:
    settings = resolve(pytester, ini="dai_url = https://ini.example\n", env={"DAI_URL": ""})
    assert settings.url == "https://ini.example"
    assert settings.sources["url"] == "ini file (dai_url)"


def test_ini_paths_are_relative_to_the_ini_file(pytester: pytest.Pytester) -> None:
    sub = pytester.mkdir("conf")
    sub.joinpath("ca.pem").write_text("PEM\n")
    sub.joinpath("pytest.ini").write_text(
        "[pytest]\ndai_ca_cert = ca.pem\ndai_junit_steps = s.xml\n"
    )
    settings = resolve(pytester, "-c", "conf/pytest.ini")
    assert settings.ca_cert == str(sub / "ca.pem")
    assert settings.junit_steps == str(sub / "s.xml")


def test_simulator_scenario_file(pytester: pytest.Pytester) -> None:
    scenario = pytester.path / "scenario.json"
    scenario.write_text("{}")
    settings = resolve(pytester, "--dai-simulator=scenario.json")
    assert settings.simulator == str(scenario)
    assert settings.sources["simulator"] == "command line (--dai-simulator)"
    assert resolve(pytester, ".", "--dai-simulator").simulator == ""


@pytest.mark.skipif(pytest.version_tuple[:2] < (9, 2), reason="typed ini keys need pytest 9.2")
def test_native_toml_numbers_and_booleans(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        "[tool.pytest]\ndai_timeout = 900\ndai_request_retries = 3\ndai_handle_sigterm = false\n"
    )
    settings = resolve_settings(pytester.parseconfig(), environ={})
    assert (settings.timeout, settings.request_retries, settings.handle_sigterm) == (900, 3, False)


# --------------------------------------------------------------------------------------------
# The credentials CSV


def test_csv_fills_client_id_secret_and_token_url(pytester: pytest.Pytester) -> None:
    csv = write_csv(pytester.path / "creds.csv", token_url="https://kc.example/token/")
    settings = resolve(pytester, "--dai-url=https://dai.example", "--dai-credentials=creds.csv")
    source = f"credentials file {csv}"
    assert settings.credentials == str(csv)
    assert settings.sources["credentials"] == "command line (--dai-credentials)"
    assert (settings.client_id, settings.client_secret) == ("csv-id", SECRET)
    assert settings.token_url == "https://kc.example/token"
    for name in ("client_id", "client_secret", "token_url"):
        assert settings.sources[name] == source


def test_csv_without_token_url_keeps_the_derived_one(pytester: pytest.Pytester) -> None:
    write_csv(pytester.path / "creds.csv")
    settings = resolve(
        pytester, "--dai-url=https://d.example", env={"DAI_CREDENTIALS": "creds.csv"}
    )
    assert settings.token_url == "https://d.example" + TOKEN_SUFFIX
    assert settings.sources["token_url"] == "derived from url and realm"
    assert settings.sources["credentials"] == "environment (DAI_CREDENTIALS)"


def test_explicit_values_beat_the_csv(pytester: pytest.Pytester) -> None:
    write_csv(pytester.path / "creds.csv", token_url="https://kc.example/token")
    settings = resolve(
        pytester,
        "--dai-token-url=https://cli.example/token",
        ini="dai_credentials = creds.csv\ndai_client_id = ini-id\n",
        env={"DAI_CLIENT_SECRET": "from-env"},
    )
    assert settings.sources["credentials"] == "ini file (dai_credentials)"
    assert (settings.client_id, settings.sources["client_id"]) == (
        "ini-id",
        "ini file (dai_client_id)",
    )
    assert settings.client_secret == "from-env"
    assert settings.sources["client_secret"] == "environment (DAI_CLIENT_SECRET)"
    assert settings.token_url == "https://cli.example/token"


# --------------------------------------------------------------------------------------------
# Validation: one usage-error line naming the setting and its source


ERRORS = [
    (
        ["--dai-timeout", "abc"],
        "",
        {},
        "--dai-timeout from the command line: expected a number of seconds >= 0, got 'abc'",
    ),
    (
        ["--dai-timeout=-1"],
        "",
        {},
        "--dai-timeout from the command line: expected a number of seconds >= 0, got '-1'",
    ),
    (
        ["--dai-timeout=inf"],
        "",
        {},
        "--dai-timeout from the command line: expected a number of seconds >= 0, got 'inf'",
    ),
    (
        [],
        "dai_timeout = nan",
        {},
        "dai_timeout from the ini file: expected a number of seconds >= 0, got 'nan'",
    ),
    (
        [],
        "dai_poll_interval = -1",
        {},
        "dai_poll_interval from the ini file: expected a number > 0, got '-1'",
    ),
    (
        ["--dai-poll-interval=0"],
        "",
        {},
        "--dai-poll-interval from the command line: expected a number > 0, got '0'",
    ),
    (
        ["--dai-request-timeout=0"],
        "",
        {},
        "--dai-request-timeout from the command line: expected a number of seconds > 0, got '0'",
    ),
    (
        [],
        "dai_request_timeout = soon",
        {},
        "dai_request_timeout from the ini file: expected a number of seconds > 0, got 'soon'",
    ),
    (
        ["--dai-request-retries=0"],
        "",
        {},
        (
            "--dai-request-retries from the command line: expected a whole number of attempts >= "
            "1, got '0'"
        ),
    ),
    (
        [],
        "dai_request_retries = 2.5",
        {},
        (
            "dai_request_retries from the ini file: expected a whole number of attempts >= 1, "
            "got '2.5'"
        ),
    ),
    (
        ["--dai-backoff-factor=-0.5"],
        "",
        {},
        "--dai-backoff-factor from the command line: expected a number >= 0, got '-0.5'",
    ),
    (
        [],
        "",
        {"DAI_URL": "ftp://x"},
        "DAI_URL from the environment: expected an http:// or https:// URL, got 'ftp://x'",
    ),
    (
        ["--dai-url="],
        "",
        {},
        "--dai-url from the command line: expected an http:// or https:// URL, got ''",
    ),
    (
        ["--dai-url=https://"],
        "",
        {},
        "--dai-url from the command line: expected an http:// or https:// URL, got 'https://'",
    ),
    (
        ["--dai-url=dai.example.com"],
        "",
        {},
        (
            "--dai-url from the command line: expected an http:// or https:// URL, got "
            "'dai.example.com'"
        ),
    ),
    (
        ["--dai-url=https://h:99999"],
        "",
        {},
        (
            "--dai-url from the command line: expected an http:// or https:// URL, got "
            "'https://h:99999'"
        ),
    ),
    (
        ["--dai-url=https://me:pw123456@h.example"],
        "",
        {},
        (
            "--dai-url from the command line: expected an http:// or https:// URL without "
            "user:password, got 'https://***@h.example'"
        ),
    ),
    ([], "dai_url =", {}, "dai_url from the ini file: expected an http:// or https:// URL, got ''"),
    (
        [],
        "",
        {"DAI_TOKEN_URL": "token"},
        "DAI_TOKEN_URL from the environment: expected an http:// or https:// URL, got 'token'",
    ),
    (
        ["--dai-realm=a/b"],
        "",
        {},
        (
            "--dai-realm from the command line: expected a realm name without spaces, '/', '?', "
            "'#' or '%', got 'a/b'"
        ),
    ),
    (
        [],
        "dai_client_id =",
        {},
        "dai_client_id from the ini file: expected a non-empty value, got ''",
    ),
    (
        [],
        "dai_handle_sigterm = maybe",
        {},
        (
            "dai_handle_sigterm from the ini file: expected true or false (or yes/no, on/off, "
            "1/0), got 'maybe'"
        ),
    ),
    (
        [],
        "dai_reap_orphans = 2",
        {},
        (
            "dai_reap_orphans from the ini file: expected true or false (or yes/no, on/off, "
            "1/0), got '2'"
        ),
    ),
    (
        [],
        "dai_run_url = {url}/runs/{id}",
        {},
        (
            "dai_run_url from the ini file: expected a URL template with the placeholders {url}, "
            "{run_id}, {execution_id}; unknown placeholder {id}, got '{url}/runs/{id}'"
        ),
    ),
    (
        [],
        "dai_run_url = runs/{run_id}",
        {},
        (
            "dai_run_url from the ini file: expected a URL template with the placeholders {url}, "
            "{run_id}, {execution_id}, giving an http:// or https:// address, got 'runs/{run_id}'"
        ),
    ),
    (
        ["--dai-simulator", "exmples"],  # a typo; a real test folder is a test path
        "",
        {},
        (
            "--dai-simulator: expected a scenario .json file, got 'exmples' (write "
            "--dai-simulator=FILE, or put --dai-simulator after the test paths)"
        ),
    ),
    (
        ["--dai-simulator=nope.json"],
        "",
        {},
        "--dai-simulator: scenario file 'nope.json' does not exist",
    ),
]


@pytest.mark.parametrize(("args", "ini", "env", "message"), ERRORS)
def test_bad_value_is_a_one_line_usage_error(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    ini: str,
    env: dict[str, str],
    message: str,
) -> None:
    pytester.mkdir("examples")
    pytester.makepyfile("def test_ok(): pass")
    if ini:
        pytester.makeini("[pytest]\n" + ini + "\n")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.errlines if line.strip()]
    assert errors == [f"ERROR: {message}"]
    assert "pw123456" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize(
    ("args", "ini", "env", "start"),
    [
        (
            ["--dai-ca-cert=missing.pem"],
            "",
            {},
            "--dai-ca-cert from the command line: expected an existing CA bundle",
        ),
        (
            [],
            "",
            {"DAI_CA_CERT": "missing.pem"},
            "DAI_CA_CERT from the environment: expected an existing CA bundle",
        ),
        (
            [],
            "dai_ca_cert = missing.pem",
            {},
            "dai_ca_cert from the ini file: expected an existing CA bundle",
        ),
    ],
)
def test_missing_ca_cert(
    pytester: pytest.Pytester, args: list[str], ini: str, env: dict[str, str], start: str
) -> None:
    with pytest.raises(pytest.UsageError) as info:
        resolve(pytester, *args, ini=ini, env=env)
    assert str(info.value).startswith(start)
    assert "missing.pem" in str(info.value)


def test_csv_errors_are_usage_errors_naming_file_and_source(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest("--dai-credentials=nowhere.csv")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    path = pytester.path / "nowhere.csv"
    assert [line for line in result.errlines if line.strip()] == [
        (
            f"ERROR: credentials file '{path}' (from --dai-credentials on the command line): no "
            "such file"
        )
    ]
    with pytest.raises(pytest.UsageError, match="from DAI_CREDENTIALS in the environment"):
        resolve(pytester, env={"DAI_CREDENTIALS": "nowhere.csv"})
    with pytest.raises(pytest.UsageError, match="from dai_credentials in the ini file"):
        resolve(pytester, ini="dai_credentials = nowhere.csv\n")


def test_bad_csv_token_url_names_the_file_never_the_secret(pytester: pytest.Pytester) -> None:
    csv = write_csv(pytester.path / "creds.csv", token_url="nonsense")
    with pytest.raises(pytest.UsageError) as info:
        resolve(pytester, "--dai-credentials=creds.csv")
    # the value is not shown: in a CSV with its columns swapped it would be the secret
    assert str(info.value) == (
        f"credentials file '{csv}' (from --dai-credentials on the command line): column "
        "token_url does not hold an http(s) URL (a value of 8 characters, not shown: are the "
        "columns in the wrong order?)"
    )
    assert SECRET not in str(info.value)
    assert "nonsense" not in str(info.value)


# --------------------------------------------------------------------------------------------
# Report header, repr, and the secret


def test_header_shows_values_sources_and_masks_the_secret(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAI_URL", "https://dai.example/")
    monkeypatch.setenv("DAI_CLIENT_SECRET", SECRET)
    pytester.makeini("[pytest]\ndai_timeout = 600\n")
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest("--dai-realm=acme", "-v")
    assert result.ret == 0
    header = [line for line in result.outlines if line.startswith("dai: ")]
    # every setting, with -v (test configurations added two; dai_offline_agent and
    # --dai-list one more)
    assert 1 < len(header) <= 10
    text = "\n".join(header)
    assert "url=https://dai.example (env DAI_URL)" in text
    assert "realm=acme (--dai-realm)" in text
    assert "timeout=600 (ini dai_timeout)" in text
    assert "token_url=https://dai.example/auth/realms/acme/protocol/openid-connect/token" in text
    assert "(derived from url and realm)" in text
    assert "client_secret=*** (env DAI_CLIENT_SECRET)" in text
    assert "defaults: " in text
    assert "request_retries=5" in text
    assert SECRET not in result.stdout.str() + result.stderr.str()


def test_header_without_a_server_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest()
    assert result.ret == 0
    assert [line for line in result.outlines if line.startswith("dai:")] == [
        "dai: no server configured (give --dai-url or DAI_URL, or --dai-simulator)"
    ]


def test_header_with_simulator_and_csv(pytester: pytest.Pytester) -> None:
    csv = write_csv(pytester.path / "creds.csv")
    settings = resolve(pytester, "--dai-simulator", "--dai-credentials", "creds.csv")
    text = "\n".join(settings.header_lines())
    assert all(line.startswith("dai: ") for line in settings.header_lines())
    assert "simulator=default scenario (--dai-simulator)" in text
    assert "url=(from the simulator)" in text
    assert f"client_secret=*** (credentials file {csv})" in text
    assert SECRET not in text


def test_repr_and_str_mask_the_secret() -> None:
    settings = Settings(url="https://x", client_secret=SECRET)
    for text in (repr(settings), str(settings)):
        assert SECRET not in text
        assert "client_secret='***'" in text
    assert "client_secret=None" in repr(Settings())


def test_with_simulator_fills_the_connection() -> None:
    settings = Settings(simulator="", sources={"simulator": "command line (--dai-simulator)"})
    filled = settings.with_simulator(
        url="http://127.0.0.1:5000/",
        token_url="http://127.0.0.1:5000/t",
        client_id="sim",
        client_secret=SECRET,
    )
    assert (filled.url, filled.token_url, filled.client_id, filled.client_secret) == (
        "http://127.0.0.1:5000",
        "http://127.0.0.1:5000/t",
        "sim",
        SECRET,
    )
    assert {filled.sources[n] for n in ("url", "token_url", "client_id", "client_secret")} == {
        "simulator"
    }
    assert filled.sources["simulator"] == "command line (--dai-simulator)"
    assert settings.url is None  # frozen, unchanged
    assert SECRET not in "\n".join(filled.header_lines())


def test_missing_server_message() -> None:
    assert MISSING_SERVER_MESSAGE == (
        "no DAI server configured: give --dai-url or DAI_URL (or dai_url in the ini file), "
        "or run with --dai-simulator"
    )


# --------------------------------------------------------------------------------------------
# Harmless when unused, -p no:dai, pytest-xdist


def test_plain_test_passes_without_any_dai_setting(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain(): assert True")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_plugin_can_be_disabled(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain(): assert True")
    result = pytester.runpytest("-p", "no:dai")
    result.assert_outcomes(passed=1)
    assert not [line for line in result.outlines if line.startswith("dai:")]
    result = pytester.runpytest("-p", "no:dai", "--dai-url=https://x")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


@pytest.mark.slow
def test_settings_stashed_on_xdist_workers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("xdist")
    monkeypatch.setenv("DAI_URL", "https://env.example")
    pytester.makeini("[pytest]\ndai_poll_interval = 2\n")
    pytester.makepyfile(
        """
        from pytest_dai.glue.settings.values import SETTINGS_KEY

        def test_worker(request):
            assert hasattr(request.config, "workerinput")
            settings = request.config.stash[SETTINGS_KEY]
            assert settings.url == "https://env.example"
            assert settings.timeout == 60
            assert settings.poll_interval == 2
            assert settings.sources["timeout"] == "command line (--dai-timeout)"
        """
    )
    result = pytester.runpytest("-n", "1", "--dai-timeout=60")
    result.assert_outcomes(passed=1)


def test_configure_stashes_the_settings(pytester: pytest.Pytester) -> None:
    config = pytester.parseconfigure("--dai-url=https://x.example")
    assert config.stash[SETTINGS_KEY].url == "https://x.example"


# --------------------------------------------------------------------------------------------
# The marker

NODE = "tests/test_x.py::test_a"
PREFIX = f"@pytest.mark.dai_model on {NODE}: "


def spec(*args: Any, settings: Settings | None = None, **kwargs: Any) -> ModelSpec:
    mark = pytest.mark.dai_model(*args, **kwargs).mark
    return parse_marker(mark, settings or Settings(), NODE)


def marker_error(*args: Any, **kwargs: Any) -> str:
    with pytest.raises(DAIConfigError) as info:
        spec(*args, **kwargs)
    message = str(info.value)
    assert message.startswith(PREFIX)
    assert "\n" not in message
    return message[len(PREFIX) :]


def test_marker_minimal_takes_the_session_timeout() -> None:
    settings = Settings(timeout=300, sources={"timeout": "command line (--dai-timeout)"})
    assert spec("Shop checkout", settings=settings) == ModelSpec(
        model="Shop checkout", timeout=300, timeout_source="command line (--dai-timeout)"
    )
    assert spec("m").timeout_source == "default"
    assert spec(model="by keyword").model == "by keyword"


def test_marker_every_argument() -> None:
    result = spec(
        "Shop",
        agent="agent-1",
        test_case=12,
        sut="sut-1",
        sut_criteria=["tag1", "tag2"],
        rerun=7,
        step_pause_time=2,
        timeout=900,
        min_steps=3,
        script="TestCases/Login",
        asset={"asset_path": "Suites/Shop.suite"},
    )
    assert result == ModelSpec(
        model="Shop",
        agent="agent-1",
        test_case=12,
        sut="sut-1",
        sut_criteria=("tag1", "tag2"),
        rerun=7,
        step_pause_time=2,
        timeout=900,
        timeout_source="marker",
        min_steps=3,
        script="TestCases/Login",
        asset=Asset(asset_path="Suites/Shop.suite"),
    )
    assert spec("m", timeout=0).timeout == 0
    assert spec("m", timeout="60").timeout == 60
    assert spec("m", sut_criteria="only").sut_criteria == ("only",)
    assert spec("m", sut_criteria=("a",)).sut_criteria == ("a",)
    assert spec("m", test_case="12").test_case == 12


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "model is required (the first positional argument)"),
        ((12,), {}, "model must be a model id or name string, got 12 (int)"),
        (("",), {}, "model must be a model id or name string, got an empty string"),
        (("a", "b"), {}, "too many positional arguments (2)"),
        (("a",), {"model": "b"}, "model given twice"),
        (
            ("m",),
            {"agnet": "x"},
            "unknown keyword 'agnet', did you mean 'agent'? (known: agent, test_case,",
        ),
        (
            ("m",),
            {"zzz": 1},
            "unknown keyword 'zzz' (known: agent, test_case, sut, sut_criteria, rerun,",
        ),
        (("m",), {"agent": ""}, "agent must be an agent id or name string, got an empty string"),
        (("m",), {"agent": 5}, "agent must be an agent id or name string, got 5 (int)"),
        (("m",), {"sut": " "}, "sut must be a SUT id string, got an empty string"),
        (("m",), {"test_case": -1}, "test_case: expected a test case id (an integer >= 0), got -1"),
        (
            ("m",),
            {"test_case": "Checkout happy path"},
            "test_case: expected a test case id (an integer), got 'Checkout happy path': DAI's API "
            "cannot look a test case up by name, so only ids are accepted; a test case's id is "
            "shown in DAI next to its name",
        ),
        (
            ("m",),
            {"test_case": True},
            "test_case: expected a test case id (an integer >= 0), got True",
        ),
        (
            ("m",),
            {"rerun": ""},
            "rerun: expected a test case run id (int) or a non-empty name, got '' (str)",
        ),
        (
            ("m",),
            {"sut_criteria": [1]},
            "sut_criteria: expected a list of non-empty strings, got [1] (list)",
        ),
        (("m",), {"sut_criteria": ["a", ""]}, "sut_criteria: expected a list of non-empty strings"),
        (
            ("m",),
            {"sut_criteria": {"a"}},
            "sut_criteria: expected a list of non-empty strings, got {'a'} (set)",
        ),
        (
            ("m",),
            {"step_pause_time": -1},
            "step_pause_time: expected a whole number of seconds >= 0, got -1",
        ),
        (("m",), {"timeout": "soon"}, "timeout: expected a number of seconds >= 0, got 'soon'"),
        (("m",), {"timeout": -5}, "timeout: expected a number of seconds >= 0, got -5"),
        (("m",), {"timeout": float("inf")}, "timeout: expected a number of seconds >= 0, got inf"),
        (("m",), {"timeout": True}, "timeout: expected a number of seconds >= 0, got True"),
        (("m",), {"min_steps": -1}, "min_steps: expected a whole number >= 0, got -1 (int)"),
        (("m",), {"min_steps": 2.5}, "min_steps: expected a whole number >= 0, got 2.5 (float)"),
    ],
)
def test_marker_errors(args: tuple[Any, ...], kwargs: dict[str, Any], message: str) -> None:
    assert marker_error(*args, **kwargs).startswith(message)
