"""Settings of pytest-dai: command line options, ini keys, environment, and the marker arguments.

Precedence per value: marker argument > command line > environment > ini file > default. The
command line, environment and ini levels are resolved once per session by
:func:`resolve_settings` into a frozen :class:`Settings` that records where each value came from;
the marker level is applied per test by :func:`parse_marker`.

Every bad value is reported as one line that names the setting and where the value came from
(a :class:`pytest.UsageError` for session settings, a :class:`DAIConfigError` for a marker). No
message ever contains the client secret. This module does not import ``requests``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import string
import warnings
from collections.abc import Mapping  # noqa: TC003 (runtime: Settings field type hints)
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import pytest

from pytest_dai.client.errors import DAIConfigError, register_secret
from pytest_dai.client.token_url import TOKEN_PATH, default_token_url

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_dai.client.credentials import CsvCredentials
    from pytest_dai.client.start_body import Asset

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_REALM",
    "DEFAULT_RUN_URL",
    "MARKER_KEYWORDS",
    "MISSING_SERVER_MESSAGE",
    "SETTINGS_KEY",
    "ModelSpec",
    "Settings",
    "add_options",
    "parse_marker",
    "resolve_settings",
]

DEFAULT_REALM = "eggplant"
DEFAULT_CLIENT_ID = "client:dai:agent:integration"
DEFAULT_RUN_URL = "{url}/runs/{run_id}"
DEFAULT_RESULT_URL = "{url}/controller/results/runs/{id}"
RESULT_URL_PLACEHOLDERS = ("url", "id", "task_instance_id", "test_config_id")
DEFAULT_ARTIFACTS = "dai-artifacts"
RUN_URL_PLACEHOLDERS = ("url", "run_id", "execution_id")

MISSING_SERVER_MESSAGE = (
    "no DAI server configured: give --dai-url or DAI_URL (or dai_url in the ini file), "
    "or run with --dai-simulator"
)
_NO_SERVER_HEADER = "dai: no server configured (give --dai-url or DAI_URL, or --dai-simulator)"

_MASK = "***"
_HEADER_WIDTH = 100
_SHOWN_LIMIT = 120

SOURCE_DEFAULT = "default"
SOURCE_DERIVED = "derived from url and realm"
SOURCE_DERIVED_V2 = "derived from url (dai_auth = v2)"
V2_AUTH_PATH = "/api/v2/auth"
SOURCE_SIMULATOR = "simulator"

DIST_MODES = ("agent", "no")
_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})


# --------------------------------------------------------------------------------------------
# Settings


@dataclass(frozen=True)
class Settings:
    """The effective session settings of pytest-dai, and where each value came from.

    ``sources`` maps a field name to a text such as ``"command line (--dai-timeout)"``,
    ``"environment (DAI_URL)"``, ``"ini file (dai_url)"``, ``"default"``,
    ``"derived from url and realm"``, ``"credentials file /path/x.csv"`` or ``"simulator"``.
    ``repr()`` and ``str()`` mask the client secret.
    """

    url: str | None = None
    realm: str = DEFAULT_REALM
    token_url: str | None = None
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str | None = field(default=None, repr=False)
    credentials: str | None = None
    request_timeout: float = 30.0
    request_retries: int = 5
    backoff_factor: float = 0.5
    ca_cert: str | None = None
    timeout: float = 7200.0
    poll_interval: float = 5.0
    dry_run: bool = False
    simulator: str | None = None
    run_url: str = DEFAULT_RUN_URL
    handle_sigterm: bool = True
    junit_steps: str | None = None
    rerun_failed: bool = False
    reap_orphans: bool = True
    reap_orphans_only: bool = False
    xdist_group_by_agent: bool = False
    parameters_file: str | None = None
    result_url: str = DEFAULT_RESULT_URL
    artifacts: str = DEFAULT_ARTIFACTS
    allow_insecure_token_url: bool = False
    dist: str = "no"
    agent: str | None = None
    auth: str = "keycloak"
    sources: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        register_secret(self.client_secret)

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "client_secret" and value is not None:
                parts.append(f"client_secret={_MASK!r}")
            elif f.name == "sources":
                parts.append(f"sources={dict(value)!r}")
            else:
                parts.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(parts)})"

    __str__ = __repr__

    @property
    def has_server(self) -> bool:
        """Whether a server URL is known (given, or filled in from the simulator)."""
        return self.url is not None

    def source(self, name: str) -> str:
        """Where the setting ``name`` came from (``"default"`` when not recorded)."""
        return self.sources.get(name, SOURCE_DEFAULT)

    def missing_server_message(self) -> str:
        """The one line a marked test fails with when no server is configured."""
        return MISSING_SERVER_MESSAGE

    def with_simulator(
        self, *, url: str, token_url: str, client_id: str, client_secret: str
    ) -> Settings:
        """A copy that talks to a running simulator; those four values get source "simulator"."""
        register_secret(client_secret)
        sources = dict(self.sources)
        for name in ("url", "token_url", "client_id", "client_secret"):
            sources[name] = SOURCE_SIMULATOR
        if self.auth == "v2":
            token_url = url.rstrip("/") + V2_AUTH_PATH
        return dataclasses.replace(
            self,
            url=url.rstrip("/"),
            token_url=token_url,
            client_id=client_id,
            client_secret=client_secret,
            sources=sources,
        )

    def format_run_url(
        self, *, run_id: object | None = None, execution_id: object | None = None
    ) -> str | None:
        """The run page address from the ``dai_run_url`` template, or None if a value is missing."""
        values = {"url": self.url, "run_id": run_id, "execution_id": execution_id}
        needed = {name for name, _ in _template_fields(self.run_url)}
        if any(values[name] is None for name in needed):
            return None
        return self.run_url.format(**{k: "" if v is None else str(v) for k, v in values.items()})

    def header_lines(self) -> list[str]:
        """A few ``dai: name=value (source)`` lines for pytest's report header, secret masked."""
        if self.url is None and self.simulator is None:
            return [_NO_SERVER_HEADER]
        given: list[str] = []
        defaults: list[str] = []
        for f in dataclasses.fields(self):
            if f.name == "sources":
                continue
            text = f"{f.name}={self._header_value(f.name)}"
            source = self.source(f.name)
            if source == SOURCE_DEFAULT:
                defaults.append(text)
            else:
                given.append(f"{text} ({_short_source(source)})")
        lines = _wrap("dai: ", given)
        if defaults:
            lines += _wrap("dai: defaults: ", defaults)
        return lines + self.warning_lines()

    def warning_lines(self) -> list[str]:
        """One header line when the DAI URL is plain http, unless it never leaves this machine
        (a loopback address: the simulator, a local tunnel)."""
        plain = (self.url or "").lower().startswith("http://")
        host = (urlsplit(self.url or "").hostname or "").lower()
        loopback = host in ("localhost", "::1") or host.startswith("127.")
        if plain and not loopback and self.source("url") != SOURCE_SIMULATOR:
            return [
                "dai: warning: the DAI URL is plain http: the access token and run data "
                "cross the network unencrypted"
            ]
        return []

    def _header_value(self, name: str) -> str:
        value = getattr(self, name)
        if name == "client_secret":
            return _MASK if value else "not set"
        if name in ("url", "token_url") and value is None and self.simulator is not None:
            return "(from the simulator)"
        if name == "simulator":
            return "off" if value is None else (value or "default scenario")
        if name == "ca_cert" and value is None:
            return "system"
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, float):
            return _number(value)
        if value is None:
            return "none"
        return str(value)


SETTINGS_KEY = pytest.StashKey[Settings]()
"""Where ``pytest_configure`` keeps the session's :class:`Settings` (``config.stash``)."""


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _short_source(source: str) -> str:
    for prefix, short in (
        ("command line (", ""),
        ("environment (", "env "),
        ("ini file (", "ini "),
    ):
        if source.startswith(prefix) and source.endswith(")"):
            return short + source[len(prefix) : -1]
    return source


def _wrap(prefix: str, items: list[str]) -> list[str]:
    lines: list[str] = []
    current = prefix
    for item in items:
        if current != prefix and len(current) + len(item) + 2 > _HEADER_WIDTH:
            lines.append(current + ",")
            current = "dai: "
        current += item if current in (prefix, "dai: ") else ", " + item
    if current not in (prefix, "dai: "):
        lines.append(current)
    return lines


# --------------------------------------------------------------------------------------------
# Command line options and ini keys


def _ini_type(kind: str) -> Any:
    """``string`` everywhere; on pytest >= 9.2 also accept native TOML numbers and booleans."""
    if pytest.version_tuple[:2] >= (9, 2):
        if kind == "number":
            return str | float
        if kind == "bool":
            return str | bool
    return "string"


def add_options(parser: pytest.Parser) -> None:
    """Register the ``dai`` option group and the ``dai_*`` ini keys (every default None)."""
    group = parser.getgroup("dai", "Eggplant DAI model runs")
    group.addoption(
        "--dai-url",
        dest="dai_url",
        metavar="URL",
        default=None,
        help="DAI server URL, e.g. https://dai.example.com:8000 (env DAI_URL, ini dai_url).",
    )
    group.addoption(
        "--dai-realm",
        dest="dai_realm",
        metavar="REALM",
        default=None,
        help=f"Keycloak realm (env DAI_REALM, ini dai_realm; default {DEFAULT_REALM}).",
    )
    group.addoption(
        "--dai-token-url",
        dest="dai_token_url",
        metavar="URL",
        default=None,
        help="OAuth token URL (env DAI_TOKEN_URL, ini dai_token_url; default "
        f"{{url}}{TOKEN_PATH}).",
    )
    group.addoption(
        "--dai-client-id",
        dest="dai_client_id",
        metavar="ID",
        default=None,
        help=f"OAuth client id (env DAI_CLIENT_ID, ini dai_client_id; default "
        f"{DEFAULT_CLIENT_ID}). The secret is read only from DAI_CLIENT_SECRET or the "
        "credentials file.",
    )
    group.addoption(
        "--dai-credentials",
        dest="dai_credentials",
        metavar="CSV",
        default=None,
        help="API Access CSV from System > API Access (client_id, client_secret, token_url) "
        "(env DAI_CREDENTIALS, ini dai_credentials).",
    )
    group.addoption(
        "--dai-request-timeout",
        dest="dai_request_timeout",
        metavar="SECONDS",
        default=None,
        help="Timeout of one HTTP request (ini dai_request_timeout; default 30).",
    )
    group.addoption(
        "--dai-request-retries",
        dest="dai_request_retries",
        metavar="N",
        default=None,
        help="Attempts per HTTP request, >= 1 (ini dai_request_retries; default 5).",
    )
    group.addoption(
        "--dai-backoff-factor",
        dest="dai_backoff_factor",
        metavar="FACTOR",
        default=None,
        help="Backoff factor between attempts (ini dai_backoff_factor; default 0.5).",
    )
    group.addoption(
        "--dai-ca-cert",
        dest="dai_ca_cert",
        metavar="PEM",
        default=None,
        help="CA bundle (PEM) to verify the server with (env DAI_CA_CERT, ini dai_ca_cert; "
        "default the system's).",
    )
    group.addoption(
        "--dai-timeout",
        dest="dai_timeout",
        metavar="SECONDS",
        default=None,
        help="Deadline of one model run, 0 = none (ini dai_timeout; default 7200). "
        "The marker's timeout= wins.",
    )
    group.addoption(
        "--dai-poll-interval",
        dest="dai_poll_interval",
        metavar="SECONDS",
        default=None,
        help="Longest wait between status polls, > 0 (ini dai_poll_interval; default 5).",
    )
    group.addoption(
        "--dai-dry-run",
        dest="dai_dry_run",
        action="store_true",
        default=None,
        help="Preflight only: check the server, models and agents; start nothing.",
    )
    group.addoption(
        "--dai-simulator",
        dest="dai_simulator",
        metavar="SCENARIO",
        nargs="?",
        const="",
        default=None,
        help="Run the bundled DAI simulator for this session, with the packaged default "
        "scenario or --dai-simulator=FILE.json.",
    )
    group.addoption(
        "--dai-junit-steps",
        dest="dai_junit_steps",
        metavar="PATH",
        default=None,
        help="Also write a JUnit XML file with one testcase per model step (ini dai_junit_steps).",
    )
    group.addoption(
        "--dai-artifacts",
        dest="dai_artifacts",
        metavar="DIR",
        default=None,
        help="Folder for failure evidence: screenshots, last log lines (ini dai_artifacts; "
        f"default {DEFAULT_ARTIFACTS}).",
    )
    group.addoption(
        "--dai-rerun-failed",
        dest="dai_rerun_failed",
        action="store_true",
        default=None,
        help="Re-run the failed test cases of the previous session's model runs.",
    )
    group.addoption(
        "--dai-parameters-file",
        dest="dai_parameters_file",
        metavar="JSON",
        default=None,
        help="Global parameter overrides for test configurations, a JSON file "
        "(ini dai_parameters_file).",
    )
    group.addoption(
        "--dai-allow-insecure-token-url",
        dest="dai_allow_insecure_token_url",
        action="store_true",
        default=None,
        help="Allow a plain-http token URL with an https DAI URL (the client secret then "
        "crosses the network unencrypted; ini dai_allow_insecure_token_url).",
    )
    group.addoption(
        "--dai-reap-orphans-only",
        dest="dai_reap_orphans_only",
        action="store_true",
        default=None,
        help="Only abort runs left behind by earlier interrupted sessions, then exit.",
    )
    group.addoption(
        "--dai-dist",
        dest="dai_dist",
        metavar="MODE",
        default=None,
        help="Under pytest-xdist: 'agent' schedules tests by their agent (one worker per agent, "
        "longest runs first; replaces --dist); 'no' leaves xdist's own (ini dai_dist; "
        "default no).",
    )

    def ini(name: str, help: str, kind: str = "string") -> None:
        parser.addini(name, help, type=_ini_type(kind), default=None)

    ini("dai_url", "DAI server URL (overridden by DAI_URL and --dai-url).")
    ini("dai_realm", f"Keycloak realm (default {DEFAULT_REALM}).")
    ini("dai_token_url", "OAuth token URL (default derived from the URL and realm).")
    ini("dai_client_id", f"OAuth client id (default {DEFAULT_CLIENT_ID}).")
    ini("dai_credentials", "API Access CSV file, relative to the ini file.")
    ini("dai_request_timeout", "Timeout of one HTTP request, seconds (default 30).", "number")
    ini("dai_request_retries", "Attempts per HTTP request, >= 1 (default 5).", "number")
    ini("dai_backoff_factor", "Backoff factor between attempts (default 0.5).", "number")
    ini("dai_ca_cert", "CA bundle (PEM), relative to the ini file (default the system's).")
    ini("dai_timeout", "Deadline of one model run, seconds, 0 = none (default 7200).", "number")
    ini("dai_poll_interval", "Longest wait between status polls, seconds (default 5).", "number")
    ini(
        "dai_run_url",
        f"Run page address template with {{url}}, {{run_id}}, {{execution_id}} "
        f"(default {DEFAULT_RUN_URL}).",
    )
    ini(
        "dai_handle_sigterm",
        "SIGTERM aborts running model runs like Ctrl-C (default true).",
        "bool",
    )
    ini(
        "dai_junit_steps",
        "JUnit XML file with one testcase per model step, relative to the ini file.",
    )
    ini("dai_artifacts", f"Folder for failure evidence (default {DEFAULT_ARTIFACTS}).")
    ini(
        "dai_reap_orphans", "Abort runs left behind by interrupted sessions (default true).", "bool"
    )
    ini("dai_parameters_file", "Test configurations' global parameter overrides (JSON file).")
    ini(
        "dai_result_url",
        "Test-config result address template with {url}, {id}, {task_instance_id}, "
        f"{{test_config_id}} (default {DEFAULT_RESULT_URL}).",
    )
    ini(
        "dai_allow_insecure_token_url",
        "Allow a plain-http token URL with an https DAI URL (default false).",
        "bool",
    )
    ini(
        "dai_xdist_group_by_agent",
        "Deprecated alias of dai_dist = agent (default false).",
        "bool",
    )
    ini("dai_dist", "Under pytest-xdist: agent (schedule by agent) or no (default no).")
    from pytest_dai.glue.server_options import add_server_options

    add_server_options(group, ini)


# --------------------------------------------------------------------------------------------
# Resolution


@dataclass(frozen=True)
class _Given:
    """One raw value and where it came from, able to report itself as a bad value."""

    value: str
    label: str  # "--dai-timeout", "DAI_URL", "dai_timeout", "token_url"
    origin: str  # "the command line", "the environment", "the ini file", "credentials file ..."
    source: str  # "command line (--dai-timeout)" ...
    base: Path  # relative paths are taken from here

    def fail(self, expected: str, shown: str | None = None) -> NoReturn:
        got = _shown(self.value) if shown is None else shown
        raise pytest.UsageError(f"{self.label} from {self.origin}: expected {expected}, got {got}")

    @property
    def described(self) -> str:
        where = {"the command line": "on", "the environment": "in", "the ini file": "in"}
        return f"{self.label} {where.get(self.origin, 'from')} {self.origin}"


def _shown(value: str) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_LIMIT else text[: _SHOWN_LIMIT - 4] + "...'"


@dataclass(frozen=True)
class _Row:
    name: str
    option: str | None = None
    env: str | None = None
    ini: str | None = None


_ROWS = {
    row.name: row
    for row in (
        _Row("url", "--dai-url", "DAI_URL", "dai_url"),
        _Row("realm", "--dai-realm", "DAI_REALM", "dai_realm"),
        _Row("token_url", "--dai-token-url", "DAI_TOKEN_URL", "dai_token_url"),
        _Row("client_id", "--dai-client-id", "DAI_CLIENT_ID", "dai_client_id"),
        _Row("client_secret", None, "DAI_CLIENT_SECRET", None),
        _Row("credentials", "--dai-credentials", "DAI_CREDENTIALS", "dai_credentials"),
        _Row("request_timeout", "--dai-request-timeout", None, "dai_request_timeout"),
        _Row("request_retries", "--dai-request-retries", None, "dai_request_retries"),
        _Row("backoff_factor", "--dai-backoff-factor", None, "dai_backoff_factor"),
        _Row("ca_cert", "--dai-ca-cert", "DAI_CA_CERT", "dai_ca_cert"),
        _Row("timeout", "--dai-timeout", None, "dai_timeout"),
        _Row("poll_interval", "--dai-poll-interval", None, "dai_poll_interval"),
        _Row("dry_run", "--dai-dry-run"),
        _Row("simulator", "--dai-simulator"),
        _Row("run_url", None, None, "dai_run_url"),
        _Row("handle_sigterm", None, None, "dai_handle_sigterm"),
        _Row("junit_steps", "--dai-junit-steps", None, "dai_junit_steps"),
        _Row("rerun_failed", "--dai-rerun-failed"),
        _Row("reap_orphans", None, None, "dai_reap_orphans"),
        _Row("reap_orphans_only", "--dai-reap-orphans-only"),
        _Row("xdist_group_by_agent", None, None, "dai_xdist_group_by_agent"),
        _Row("parameters_file", "--dai-parameters-file", None, "dai_parameters_file"),
        _Row("result_url", None, None, "dai_result_url"),
        _Row("artifacts", "--dai-artifacts", None, "dai_artifacts"),
        _Row(
            "allow_insecure_token_url",
            "--dai-allow-insecure-token-url",
            None,
            "dai_allow_insecure_token_url",
        ),
        _Row("dist", "--dai-dist", None, "dai_dist"),
        _Row("agent", "--dai-agent", "DAI_AGENT", "dai_agent"),
        _Row("auth", "--dai-auth", "DAI_AUTH", "dai_auth"),
    )
}


class _Resolver:
    def __init__(self, config: pytest.Config, environ: Mapping[str, str]) -> None:
        self.config = config
        self.environ = environ
        self.cwd = Path(config.invocation_params.dir)
        inipath = config.inipath
        self.ini_dir = Path(inipath).parent if inipath is not None else Path(config.rootpath)

    def given(self, name: str) -> _Given | None:
        """The highest-precedence raw value of ``name``: command line, environment, ini file."""
        row = _ROWS[name]
        if row.option is not None:
            value = self.config.getoption(row.option.lstrip("-").replace("-", "_"))
            if value is not None:
                return _Given(
                    value if isinstance(value, str) else str(value),
                    row.option,
                    "the command line",
                    f"command line ({row.option})",
                    self.cwd,
                )
        if row.env is not None:
            # An empty variable counts as unset: CI systems export "" for a missing secret.
            value = self.environ.get(row.env)
            if value:
                return _Given(
                    value, row.env, "the environment", f"environment ({row.env})", self.cwd
                )
        if row.ini is not None:
            with warnings.catch_warnings():
                # A list or table in pyproject.toml for a string key: pytest warns (and will
                # refuse); pytest-dai names the key and its file in one line below instead.
                warnings.simplefilter("ignore", DeprecationWarning)
                value = self.config.getini(row.ini)
            if value is not None:
                if isinstance(value, bool):
                    value = "true" if value else "false"
                elif isinstance(value, (int, float)):
                    value = str(value)
                elif not isinstance(value, str):
                    return _Given(
                        str(value), row.ini, "the ini file", f"ini file ({row.ini})", self.ini_dir
                    ).fail("a single value")
                return _Given(value, row.ini, "the ini file", f"ini file ({row.ini})", self.ini_dir)
        return None


def _to_url(given: _Given) -> str:
    text = given.value.strip()
    expected = "an http:// or https:// URL"
    try:
        parts = urlsplit(text)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        given.fail(expected, _shown(_hide_userinfo(text)))
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or not port_ok:
        given.fail(expected, _shown(_hide_userinfo(text)))
    if any(ch.isspace() for ch in text):
        given.fail(f"{expected} without spaces", _shown(_hide_userinfo(text)))
    if parts.username is not None or parts.password is not None:
        given.fail(f"{expected} without user:password", _shown(_hide_userinfo(text)))
    if parts.query or parts.fragment:
        given.fail(f"{expected} without a query or fragment", _shown(text))
    return text.rstrip("/")


def _hide_userinfo(text: str) -> str:
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    netloc, slash, path = rest.partition("/")
    if "@" in netloc:
        netloc = _MASK + "@" + netloc.rsplit("@", 1)[1]
    return f"{scheme}{sep}{netloc}{slash}{path}"


def _to_text(given: _Given) -> str:
    text = given.value.strip()
    if not text:
        given.fail("a non-empty value")
    return text


def _to_realm(given: _Given) -> str:
    text = _to_text(given)
    if any(ch.isspace() or ch in "/?#%" for ch in text):
        given.fail("a realm name without spaces, '/', '?', '#' or '%'")
    return text


def _to_path(given: _Given) -> str:
    text = given.value.strip()
    if not text:
        given.fail("a file path")
    return os.path.normpath(given.base / Path(text).expanduser())


def _to_output_file(given: _Given) -> str:
    """A file to write at the end of the session: checked now, not after hours of runs."""
    path = _to_path(given)
    if os.path.isdir(path):
        given.fail(f"a file to write, but {path} is a folder")
    folder = os.path.dirname(path) or "."
    existing = folder
    while existing and not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if existing and (not os.path.isdir(existing) or not os.access(existing, os.W_OK)):
        given.fail(f"a file to write, but {existing} is not a folder this user can write to")
    return path


def _to_folder(given: _Given) -> str:
    """A folder to write into (made when first needed): checked now."""
    path = _to_path(given)
    existing = path
    while existing and not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if os.path.exists(path) and not os.path.isdir(path):
        given.fail(f"a folder, but {path} is a file")
    if existing and not os.access(existing, os.W_OK):
        given.fail(f"a folder this user can write to, but {existing} is not writable")
    return path


def _to_ca_cert(given: _Given) -> str:
    path = _to_path(given)
    if not os.path.exists(path):
        given.fail(f"an existing CA bundle (PEM) file or directory, but {path} does not exist")
    return path


def _to_float(given: _Given, expected: str, ok: Callable[[float], bool]) -> float:
    try:
        number = float(given.value.strip())
    except ValueError:
        given.fail(expected)
    if not math.isfinite(number) or not ok(number):
        given.fail(expected)
    return number


def _to_retries(given: _Given) -> int:
    expected = "a whole number of attempts >= 1"
    text = given.value.strip()
    try:
        number = int(text)
    except ValueError:
        given.fail(expected)
    if number < 1:
        given.fail(expected)
    return number


def _to_bool(given: _Given) -> bool:
    text = given.value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    given.fail("true or false (or yes/no, on/off, 1/0)")


def _to_auth(given: _Given) -> str:
    from pytest_dai.glue.server_options import to_auth

    return to_auth(given.value, given.fail)


def _to_dist(given: _Given) -> str:
    text = given.value.strip().lower()
    if text not in DIST_MODES:
        given.fail(" or ".join(DIST_MODES))
    return text


def _template_fields(template: str) -> list[tuple[str, str]]:
    """``(field name, "{field...}")`` of every replacement field in ``template``."""
    result = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is not None:
            text = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            result.append((name, "{" + text + "}"))
    return result


def _to_run_url(given: _Given, placeholders: tuple[str, ...] = RUN_URL_PLACEHOLDERS) -> str:
    template = given.value.strip()
    allowed = ", ".join("{" + name + "}" for name in placeholders)
    expected = f"a URL template with the placeholders {allowed}"
    try:
        fields = _template_fields(template)
    except ValueError as exc:
        given.fail(f"{expected} ({exc})")
    for name, text in fields:
        if name not in placeholders:
            given.fail(f"{expected}; unknown placeholder {text}")
    try:
        values = {name: "1" for name in placeholders}
        sample = template.format(**{**values, "url": "https://dai.invalid"})
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        given.fail(f"{expected} ({exc})")
    parts = urlsplit(sample)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        given.fail(f"{expected}, giving an http:// or https:// address")
    return template


def _to_scenario(given: _Given) -> str:
    if given.value == "":
        return ""
    path = _to_path(given)
    if path.lower().endswith(".json") and not os.path.isfile(path):
        reason = "is a folder" if os.path.isdir(path) else "does not exist"
        raise pytest.UsageError(f"--dai-simulator: scenario file {_shown(given.value)} {reason}")
    if not path.lower().endswith(".json"):
        raise pytest.UsageError(
            f"--dai-simulator: expected a scenario .json file, got {_shown(given.value)} "
            "(write --dai-simulator=FILE, or put --dai-simulator after the test paths)"
        )
    return path


def _read_csv(given: _Given) -> CsvCredentials:
    path = _to_path(given)
    try:
        from pytest_dai.client.credentials import read_credentials_csv

        return read_credentials_csv(path, source=given.described)
    except DAIConfigError as exc:
        raise pytest.UsageError(str(exc)) from None


def resolve_settings(config: pytest.Config, environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve every setting: command line > environment > ini file > default.

    The credentials CSV, when given, fills the client id, secret and token URL that were not
    given explicitly. ``environ`` defaults to ``os.environ``. Raises :class:`pytest.UsageError`
    with one line naming the setting and its source for any bad value.
    """
    resolver = _Resolver(config, os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def take(name: str, convert: Callable[[_Given], Any]) -> _Given | None:
        given = resolver.given(name)
        if given is None:
            sources[name] = SOURCE_DEFAULT
        else:
            values[name] = convert(given)
            sources[name] = given.source
        return given

    def number(expected: str, ok: Callable[[float], bool]) -> Callable[[_Given], float]:
        return lambda given: _to_float(given, expected, ok)

    take("url", _to_url)
    take("realm", _to_realm)
    take("auth", _to_auth)
    token_url_given = take("token_url", _to_url)
    take("client_id", _to_text)
    take("client_secret", lambda given: given.value)
    csv_given = take("credentials", _to_path)
    if csv_given is not None:
        csv = _read_csv(csv_given)
        csv_source = f"credentials file {csv.path}"
        if "client_id" not in values:
            values["client_id"] = csv.client_id
            sources["client_id"] = csv_source
        if "client_secret" not in values:
            values["client_secret"] = csv.client_secret
            sources["client_secret"] = csv_source
        if "token_url" not in values and csv.token_url:
            origin = f"credentials file {csv.path!r}"
            values["token_url"] = _to_url(
                _Given(csv.token_url, "token_url", origin, csv_source, resolver.cwd)
            )
            sources["token_url"] = csv_source
    if values.get("auth") == "v2" and "url" in values and token_url_given is None:
        # v2 posts to the DAI server itself; a CSV's token_url names the Keycloak endpoint.
        values["token_url"] = values["url"] + V2_AUTH_PATH
        sources["token_url"] = SOURCE_DERIVED_V2
    if "token_url" not in values and "url" in values:
        realm = values.get("realm", DEFAULT_REALM)
        values["token_url"] = default_token_url(values["url"], realm)
        sources["token_url"] = SOURCE_DERIVED
    take("request_timeout", number("a number of seconds > 0", lambda n: n > 0))
    take("request_retries", _to_retries)
    take("backoff_factor", number("a number >= 0", lambda n: n >= 0))
    take("ca_cert", _to_ca_cert)
    take("timeout", number("a number of seconds >= 0", lambda n: n >= 0))
    take("poll_interval", number("a number > 0", lambda n: n > 0))
    take("dry_run", lambda given: True)
    take("simulator", _to_scenario)
    take("run_url", _to_run_url)
    take("handle_sigterm", _to_bool)
    take("junit_steps", _to_output_file)
    take("rerun_failed", lambda given: True)
    take("reap_orphans", _to_bool)
    take("reap_orphans_only", lambda given: True)
    take("xdist_group_by_agent", _to_bool)
    take("parameters_file", _to_parameters_file)
    take("result_url", lambda given: _to_run_url(given, RESULT_URL_PLACEHOLDERS))
    if take("dist", _to_dist) is None and values.get("xdist_group_by_agent"):
        values["dist"] = "agent"  # the deprecated alias
        sources["dist"] = sources["xdist_group_by_agent"]
    take("artifacts", _to_folder)
    take("agent", _to_text)
    take("allow_insecure_token_url", _to_bool)
    _check_token_url(values, sources, bool(values.get("allow_insecure_token_url")))
    return Settings(**values, sources=sources)


def _check_token_url(values: dict[str, Any], sources: dict[str, str], allowed: bool) -> None:
    """Refuse a plain-http token URL with an https DAI URL unless explicitly allowed."""
    url, token_url = values.get("url") or "", values.get("token_url") or ""
    if allowed or not url.lower().startswith("https://"):
        return
    if token_url.lower().startswith("http://"):
        raise pytest.UsageError(
            f"token_url {token_url!r} ({sources.get('token_url', SOURCE_DEFAULT)}) is plain http "
            f"while the DAI URL is https: the client secret would be sent unencrypted; use an "
            "https token URL, or set dai_allow_insecure_token_url = true "
            "(--dai-allow-insecure-token-url) if you mean it"
        )


def _to_parameters_file(given: _Given) -> str:
    """A JSON file of parameter overrides, read now so a bad one stops the run at once."""
    path = _to_path(given)
    from pytest_dai.glue.test_config_marker import read_parameters_file

    try:
        read_parameters_file(path, given.described)
    except DAIConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    return path


# --------------------------------------------------------------------------------------------
# The marker


MARKER_KEYWORDS = (
    "agent",
    "test_case",
    "sut",
    "sut_criteria",
    "rerun",
    "step_pause_time",
    "timeout",
    "min_steps",
    "script",
    "asset",
)


@dataclass(frozen=True)
class ModelSpec:
    """The validated arguments of one ``@pytest.mark.dai_model(...)``, timeout resolved.

    ``timeout`` is the marker's ``timeout=`` or else the session's ``Settings.timeout``
    (0 = no deadline); ``timeout_source`` says which (``"marker"`` or the setting's source).
    """

    model: str
    agent: str | None = None
    test_case: int | str | None = None
    sut: str | None = None
    sut_criteria: tuple[str, ...] = ()
    rerun: int | str | None = None
    step_pause_time: int | None = None
    timeout: float = 7200.0
    timeout_source: str = SOURCE_DEFAULT
    min_steps: int | None = None
    script: str | None = None
    asset: Asset | None = None


class _MarkError:
    def __init__(self, nodeid: str) -> None:
        self.prefix = f"@pytest.mark.dai_model on {nodeid}: "

    def __call__(self, text: str) -> NoReturn:
        raise DAIConfigError(self.prefix + text)


def _describe(value: object) -> str:
    text = repr(value)
    if len(text) > _SHOWN_LIMIT:
        text = text[: _SHOWN_LIMIT - 3] + "..."
    return f"{text} ({type(value).__name__})"


def _mark_text(fail: _MarkError, name: str, value: object, what: str) -> str:
    if not isinstance(value, str):
        fail(f"{name} must be {what} string, got {_describe(value)}")
    if not value.strip():
        fail(f"{name} must be {what} string, got an empty string")
    return value.strip()


def _mark_id(fail: _MarkError, name: str, value: object, what: str) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            fail(f"{name}: expected {what} id >= 0 or a name, got {value!r}")
        return value
    if isinstance(value, str) and value.strip():
        return value.strip()
    fail(f"{name}: expected {what} id (int) or a non-empty name, got {_describe(value)}")


def _mark_float(fail: _MarkError, name: str, value: object, expected: str) -> float:
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or number < 0:
        fail(f"{name}: expected {expected}, got {value!r}")
    return number


def parse_marker(mark: pytest.Mark, settings: Settings, nodeid: str) -> ModelSpec:
    """Validate ``@pytest.mark.dai_model(model, *, agent=None, ...)`` into a :class:`ModelSpec`.

    Raises :class:`DAIConfigError` with one line naming the test and the argument.
    """
    fail = _MarkError(nodeid)
    kwargs = dict(mark.kwargs)
    unknown = [key for key in kwargs if key not in (*MARKER_KEYWORDS, "model")]
    if unknown:
        key = unknown[0]
        import difflib

        close = difflib.get_close_matches(key, MARKER_KEYWORDS, n=1)
        hint = f", did you mean {close[0]!r}?" if close else ""
        fail(f"unknown keyword {key!r}{hint} (known: {', '.join(MARKER_KEYWORDS)})")
    if len(mark.args) > 1:
        fail(
            f"too many positional arguments ({len(mark.args)}): only the model is positional, "
            "give the others as keywords (agent=..., timeout=...)"
        )
    if mark.args and "model" in kwargs:
        fail("model given twice (positionally and as model=)")
    if mark.args:
        raw_model: object = mark.args[0]
    elif "model" in kwargs:
        raw_model = kwargs.pop("model")
    else:
        fail("model is required (the first positional argument)")
    kwargs.pop("model", None)
    model = _mark_text(fail, "model", raw_model, "a model id or name")

    agent = kwargs.get("agent")
    if agent is not None:
        agent = _mark_text(fail, "agent", agent, "an agent id or name")
    else:
        agent = settings.agent  # dai_agent; None: the run uses no agent (agent: null)
    sut = kwargs.get("sut")
    if sut is not None:
        sut = _mark_text(fail, "sut", sut, "a SUT id")
    test_case = kwargs.get("test_case")
    if test_case is not None:
        from pytest_dai.glue.marker_extras import parse_test_case

        test_case = parse_test_case(fail, test_case)
    rerun = kwargs.get("rerun")
    if rerun is not None:
        rerun = _mark_id(fail, "rerun", rerun, "a test case run")

    raw_criteria = kwargs.get("sut_criteria")
    criteria: tuple[str, ...] = ()
    if isinstance(raw_criteria, str):
        raw_criteria = [raw_criteria]
    if raw_criteria is not None:
        if not isinstance(raw_criteria, (list, tuple)) or not all(
            isinstance(item, str) and item.strip() for item in raw_criteria
        ):
            fail(
                f"sut_criteria: expected a list of non-empty strings, got {_describe(raw_criteria)}"
            )
        criteria = tuple(item.strip() for item in raw_criteria)

    from pytest_dai.glue.marker_extras import parse_asset, parse_script, parse_step_pause_time

    step_pause_time = parse_step_pause_time(fail, kwargs.get("step_pause_time"))
    script = parse_script(fail, kwargs.get("script"))
    asset = parse_asset(fail, kwargs.get("asset"))

    raw_timeout = kwargs.get("timeout")
    if raw_timeout is not None:
        timeout = _mark_float(fail, "timeout", raw_timeout, "a number of seconds >= 0")
        timeout_source = "marker"
    else:
        timeout = settings.timeout
        timeout_source = settings.source("timeout")

    min_steps = kwargs.get("min_steps")
    if min_steps is not None and (
        not isinstance(min_steps, int) or isinstance(min_steps, bool) or min_steps < 0
    ):
        fail(f"min_steps: expected a whole number >= 0, got {_describe(min_steps)}")

    return ModelSpec(
        model=model,
        agent=agent,
        test_case=test_case,
        sut=sut,
        sut_criteria=criteria,
        rerun=rerun,
        step_pause_time=step_pause_time,
        timeout=timeout,
        timeout_source=timeout_source,
        min_steps=min_steps,
        script=script,
        asset=asset,
    )
