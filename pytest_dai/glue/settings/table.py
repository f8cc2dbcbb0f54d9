"""The settings table of pytest-dai: one row per setting, from which everything else comes.

A row gives the setting's name (the :class:`~pytest_dai.glue.settings.values.Settings` field), its
command line option, environment variable and ini key, its default (from
:mod:`pytest_dai.client.defaults`), the converter that checks a raw value, and its help. From
the rows come ``addoption``/``addini`` (:func:`add_options`), the resolution with sources
(:mod:`pytest_dai.glue.settings.resolve`), and the README's "Configuration" table
(:func:`pytest_dai.glue.settings.readme.readme_table`).

Precedence: marker argument > command line > environment > ini file > default. The client
secret has neither an option nor an ini key, on purpose: it never shows in a process list, a
shell history or a committed ini file. Cheap to import (no ``requests``, no client).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import pytest

from pytest_dai.client import defaults

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from pytest_dai.glue.settings.converters import Given

#: An ini key for the client secret, registered only to be refused with its reason (see
#: :func:`pytest_dai.glue.settings.resolve.resolve_settings`) instead of pytest's "unknown option".
IGNORED_SECRET_KEY = "dai_client_secret"
#: The report header's line when no server is configured.
NO_SERVER_HEADER = "dai: no server configured (give --dai-url or DAI_URL, or --dai-simulator)"


class Setting:
    """One row of the settings table. A plain class with slots: every pytest session imports
    this module, and a ``NamedTuple`` or a dataclass costs it about 0.3 ms more to define."""

    __slots__ = (
        "converter", "default", "default_text", "env", "flag", "help", "ini", "kind", "metavar",
        "name", "option", "usage", "what",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        what: str,
        help: str,
        converter: str,
        option: str | None = None,
        env: str | None = None,
        ini: str | None = None,
        default: object = None,
        *,
        default_text: str | None = None,
        metavar: str | None = None,
        kind: str = "text",
        flag: bool = False,
        usage: str | None = None,
    ) -> None:
        self.name = name
        #: The README's "Setting" column.
        self.what = what
        #: The ``--help`` text (where it may be given and the default are added).
        self.help = help
        #: The name of the function of :mod:`pytest_dai.glue.settings.converters` that converts a
        #: given value (a name: the converters are imported only when a value is given).
        self.converter = converter
        self.option = option
        self.env = env
        self.ini = ini
        self.default = default
        #: How the default reads in the README and in ``--help`` when the value alone says too
        #: little (``None`` means something: no server, the system's CA bundle...).
        self.default_text = default_text
        self.metavar = metavar
        #: The ini key's type: ``text``, ``number`` or ``bool``.
        self.kind = kind
        #: The option is a ``store_true`` flag.
        self.flag = flag
        #: The README's "Command line" column when it says more than the option's name.
        self.usage = usage

    def __repr__(self) -> str:
        return f"<Setting {self.name}>"

    @property
    def dest(self) -> str:
        """The option's ``config.option`` name (``--dai-poll-interval``: ``dai_poll_interval``)."""
        return (self.option or "").lstrip("-").replace("-", "_")

    def on_command_line(self, config: pytest.Config) -> object | None:
        """The value given with the option, if any (every option's default is None)."""
        return config.getoption(self.dest) if self.option is not None else None

    def in_environment(self, environ: Mapping[str, str]) -> str | None:
        """The value of the environment variable, if set; an empty one counts as unset (CI
        systems export "" for a missing secret)."""
        return (environ.get(self.env) or None) if self.env is not None else None

    def convert(self, given: Given) -> Any:
        """The typed value of ``given``, or a ``pytest.UsageError`` naming where it came from."""
        from pytest_dai.glue.settings import converters

        convert: Callable[[Given], Any] = getattr(converters, self.converter)
        return convert(given)


TABLE: tuple[Setting, ...] = (
    Setting(
        "url", "server URL", "DAI server URL, e.g. https://dai.example.com:8000.", "to_url",
        "--dai-url", "DAI_URL", "dai_url",
        default_text="none: required, unless `--dai-simulator`", metavar="URL",
    ),
    Setting(
        "realm", "realm", "Keycloak realm.", "to_realm",
        "--dai-realm", "DAI_REALM", "dai_realm", defaults.REALM, metavar="REALM",
    ),
    Setting(
        "token_url", "token URL", "OAuth token URL.", "to_url",
        "--dai-token-url", "DAI_TOKEN_URL", "dai_token_url",
        default_text="the credentials CSV's `token_url`, else `{url}"
        + defaults.TOKEN_PATH
        + "` (with `dai_auth = v2`: `{url}"
        + defaults.V2_AUTH_PATH
        + "`)",
        metavar="URL",
    ),
    Setting(
        "auth",
        "how to get a token: `keycloak` (OAuth form) or `v2` (`POST {url}/api/v2/auth`, JSON; "
        "newer servers)",
        "How to get a token: keycloak (OAuth client credentials) or v2 "
        "(POST {url}/api/v2/auth, newer servers).",
        "to_auth", "--dai-auth", "DAI_AUTH", "dai_auth", defaults.AUTH, metavar="SCHEME",
    ),
    Setting(
        "api_version",
        "public API version: `auto` (`/api/v2`, or `/api/v1` where the server has only that: "
        "DAI 7.4), `v1` or `v2`",
        "Public API version: auto (v2, or v1 where the server has only v1: DAI 7.4), v1 or v2.",
        "to_api_version", "--dai-api-version", "DAI_API_VERSION", "dai_api_version",
        defaults.API_VERSION, metavar="VERSION",
    ),
    Setting(
        "client_id", "client id",
        "OAuth client id. The secret is read only from DAI_CLIENT_SECRET or the credentials "
        "file.",
        "to_text", "--dai-client-id", "DAI_CLIENT_ID", "dai_client_id", defaults.CLIENT_ID,
        metavar="ID",
    ),
    Setting(
        "client_secret", "client secret", "OAuth client secret.", "to_secret",
        env="DAI_CLIENT_SECRET", usage="none, on purpose",
    ),
    Setting(
        "credentials", "credentials CSV (System > API Access)",
        "API Access CSV from System > API Access (client_id, client_secret, token_url).",
        "to_path", "--dai-credentials", "DAI_CREDENTIALS", "dai_credentials", metavar="CSV",
    ),
    Setting(
        "request_timeout",
        "per-request timeout, s: the total time of one attempt (connect and every read)",
        "Timeout of one HTTP request, seconds.", "to_positive_seconds",
        "--dai-request-timeout", ini="dai_request_timeout", default=defaults.REQUEST_TIMEOUT,
        metavar="SECONDS", kind="number",
    ),
    Setting(
        "request_retries", "attempts per request", "Attempts per HTTP request, >= 1.",
        "to_retries", "--dai-request-retries", ini="dai_request_retries",
        default=defaults.REQUEST_ATTEMPTS, metavar="N", kind="number",
    ),
    Setting(
        "backoff_factor", "backoff factor", "Backoff factor between attempts.",
        "to_at_least_zero", "--dai-backoff-factor", ini="dai_backoff_factor",
        default=defaults.BACKOFF_FACTOR, metavar="FACTOR", kind="number",
    ),
    Setting(
        "ca_cert", "CA bundle (PEM)", "CA bundle (PEM) to verify the server with.", "to_ca_cert",
        "--dai-ca-cert", "DAI_CA_CERT", "dai_ca_cert", default_text="the system's",
        metavar="PEM",
    ),
    Setting(
        "timeout", "run deadline, s (0 = none)",
        "Deadline of one run, seconds, 0 = none. The marker's timeout= wins.",
        "to_seconds_at_least_zero", "--dai-timeout", ini="dai_timeout",
        default=defaults.RUN_DEADLINE, metavar="SECONDS", kind="number",
    ),
    Setting(
        "poll_interval", "longest wait between status polls, s",
        "Longest wait between status polls, seconds, > 0.", "to_positive",
        "--dai-poll-interval", ini="dai_poll_interval", default=defaults.POLL_INTERVAL,
        metavar="SECONDS", kind="number",
    ),
    Setting(
        "dry_run", "preflight only, start nothing",
        "Preflight only: check the server, models and agents; start nothing.", "to_flag",
        "--dai-dry-run", default=False, flag=True,
    ),
    Setting(
        "simulator", "run the bundled simulator for this session",
        "Run the bundled DAI simulator for this session, with the packaged default scenario or "
        "--dai-simulator=FILE.json.",
        "to_scenario", "--dai-simulator", metavar="SCENARIO", default_text="off",
        usage="`--dai-simulator[=SCENARIO]`",
    ),
    Setting(
        "run_url",
        "run page address template (`{url}`, `{run_id}`: the run's integer id, "
        "`{execution_id}`: the execution service's id; see below)",
        "Run page address template with {url}, {run_id}, {execution_id}.", "to_run_url",
        ini="dai_run_url", default=defaults.RUN_URL,
    ),
    Setting(
        "handle_sigterm", "SIGTERM acts like Ctrl-C",
        "SIGTERM aborts running DAI runs like Ctrl-C.", "to_bool", ini="dai_handle_sigterm",
        default=True, kind="bool",
    ),
    Setting(
        "junit_steps", "also write a JUnit file with one testcase per model step",
        "Also write a JUnit XML file with one testcase per model step.", "to_output_file",
        "--dai-junit-steps", ini="dai_junit_steps", metavar="PATH",
        usage="`--dai-junit-steps PATH`",
    ),
    Setting(
        "rerun_failed", "re-run only the failed test case runs of the last session",
        "Re-run the failed test cases of the previous session's DAI runs.", "to_flag",
        "--dai-rerun-failed", default=False, flag=True,
    ),
    Setting(
        "reap_orphans", "abort runs left going by earlier, killed sessions",
        "Abort runs left behind by interrupted sessions.", "to_bool", ini="dai_reap_orphans",
        default=True, kind="bool",
    ),
    Setting(
        "reap_orphans_only", "only abort such runs, then exit",
        "Only abort runs left behind by earlier interrupted sessions, then exit.", "to_flag",
        "--dai-reap-orphans-only", default=False, flag=True,
    ),
    Setting(
        "dist",
        "under pytest-xdist, schedule tests by agent (`agent`) or leave xdist's `--dist` (`no`)",
        "Under pytest-xdist: 'agent' schedules tests by their agent (one worker per agent, "
        "longest runs first; replaces --dist); 'no' leaves xdist's own.",
        "to_dist", "--dai-dist", ini="dai_dist", default=defaults.DIST, metavar="MODE",
    ),
    Setting(
        "artifacts",
        "folder for failure evidence (screenshots, last log lines) and DAI's JUnit of test "
        "configurations",
        "Folder for failure evidence (screenshots, last log lines) and DAI's JUnit of test "
        "configurations.",
        "to_folder", "--dai-artifacts", ini="dai_artifacts", default=defaults.ARTIFACTS,
        metavar="DIR",
    ),
    Setting(
        "parameters_file", "global parameter overrides for test configurations (JSON file)",
        "Global parameter overrides for test configurations, a JSON file.",
        "to_parameters_file", "--dai-parameters-file", ini="dai_parameters_file",
        metavar="JSON",
    ),
    Setting(
        "space", "space of the test configurations named without `space=`",
        "Space of test configurations named without space= (default: any space).", "to_text",
        "--dai-space", "DAI_SPACE", "dai_space", default_text="none: any space",
        metavar="SPACE",
    ),
    Setting(
        "result_url",
        "test-config result address template (`{url}`, `{id}`, `{task_instance_id}`, "
        "`{test_config_id}`)",
        "Test-config result address template with {url}, {id}, {task_instance_id}, "
        "{test_config_id}.",
        "to_result_url", ini="dai_result_url", default=defaults.RESULT_URL,
    ),
    Setting(
        "agent", "agent of marked tests whose marker names none",
        "Agent (id or name) for marked tests whose marker names none.", "to_text",
        "--dai-agent", "DAI_AGENT", "dai_agent", default_text="none: such runs use no agent",
        metavar="AGENT",
    ),
    Setting(
        "offline_agent",
        "while a run is queued for an agent the server lists as offline: `wait` (up to the "
        "run deadline) or `fail` (the test fails at once, the run is aborted)",
        "While a run is queued for an agent the server lists as offline: wait (up to the run "
        "deadline) or fail (at once, aborting the run).",
        "to_offline_agent", "--dai-offline-agent", ini="dai_offline_agent",
        default=defaults.OFFLINE_AGENT, metavar="MODE",
    ),
    Setting(
        "list_names",
        "print the names and ids of the server's `models`, `agents` or `configs` (test "
        "configurations), then exit",
        "Print the names and ids of the server's models, agents or configs (test "
        "configurations) a marker can use, then exit.",
        "to_list_kind", "--dai-list", metavar="WHAT", default_text="off",
        usage="`--dai-list models\\|agents\\|configs`",
    ),
    Setting(
        "prestart",
        "start the runs of the selected tests ahead of their turns, one at a time per agent "
        "(one process drives a whole suite; see [docs/parallel.md](docs/parallel.md))",
        "Start the DAI runs of the selected tests ahead of their turns, one at a time per "
        "agent (a test's fixtures are then set up after its run started).",
        "to_bool", "--dai-prestart", ini="dai_prestart", default=False, kind="bool", flag=True,
    ),
    Setting(
        "prestart_limit", "most runs started ahead and not yet waited for",
        "With --dai-prestart: the most runs started ahead and not yet waited for.",
        "to_count", "--dai-prestart-limit", ini="dai_prestart_limit",
        default=defaults.PRESTART_LIMIT, metavar="N", kind="number",
    ),
    Setting(
        "allow_insecure_token_url",
        "allow a plain-http token URL with an https server URL "
        "(see [docs/security.md](docs/security.md))",
        "Allow a plain-http token URL with an https DAI URL (the client secret then crosses "
        "the network unencrypted).",
        "to_bool", "--dai-allow-insecure-token-url", ini="dai_allow_insecure_token_url",
        default=False, kind="bool", flag=True,
    ),
)  # fmt: skip

ROWS: dict[str, Setting] = {row.name: row for row in TABLE}


def in_ini_file(config: pytest.Config, key: str) -> object | None:
    """The ini file's value of ``key`` as pytest reads it, if given. A list or table in
    pyproject.toml for a text key makes pytest warn (and will make it refuse): pytest-dai's
    resolution names the key and its file in one line instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        value: object | None = config.getini(key)
    return value


def shown_default(row: Setting) -> str:
    """The default as the README shows it (``--help`` shows it without backquotes)."""
    value = row.default
    if row.default_text is not None:
        return row.default_text
    if row.flag and row.ini is None:
        return "off"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"{value:g}"
    if isinstance(value, str):
        return f"`{value}`"
    return "none"


def _ini_type(kind: str) -> Any:
    """``string`` everywhere; on pytest >= 9.2 also accept native TOML numbers and booleans."""
    if pytest.version_tuple[:2] >= (9, 2):
        if kind == "number":
            return str | float
        if kind == "bool":
            return str | bool
    return "string"


def _help(row: Setting, *, on_option: bool) -> str:
    where = [f"env {row.env}"] if row.env and on_option else []
    if row.ini and on_option:
        where.append(f"ini {row.ini}")
    if not row.flag and (row.default is not None or row.default_text is not None):
        where.append("default " + shown_default(row).replace("`", ""))
    return f"{row.help} ({'; '.join(where)})" if where else row.help


def add_options(parser: pytest.Parser) -> None:
    """Register the ``dai`` option group and the ``dai_*`` ini keys of the table (every
    default None: the resolution tells a value given from a default)."""
    group = parser.getgroup("dai", "Eggplant DAI model runs and test configurations")
    for row in TABLE:
        if row.option is None:
            continue
        dest = row.dest
        text = _help(row, on_option=True)
        if row.name == "simulator":
            group.addoption(row.option, dest=dest, metavar=row.metavar, nargs="?", const="",
                            default=None, help=text)  # fmt: skip
        elif row.flag:
            group.addoption(row.option, dest=dest, action="store_true", default=None, help=text)
        else:
            group.addoption(row.option, dest=dest, metavar=row.metavar, default=None, help=text)
    for row in TABLE:
        if row.ini is not None:
            help_text = _help(row, on_option=False)
            parser.addini(row.ini, help_text, type=_ini_type(row.kind), default=None)
    parser.addini(
        IGNORED_SECRET_KEY,
        "Not read, on purpose: give the secret in DAI_CLIENT_SECRET or the credentials file.",
        default=None,
    )
