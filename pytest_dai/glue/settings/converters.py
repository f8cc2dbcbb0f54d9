"""Converters of the settings table: one raw value (text from the command line, the
environment or the ini file) into its typed value, or one :class:`pytest.UsageError` line that
names the setting, where the value came from, what was expected and what was given.

Cheap to import: no ``requests``, no client (the credentials CSV reader is imported when a CSV
is given). No message ever contains the client secret.
"""

from __future__ import annotations

import math
import os
import string
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, NoReturn
from urllib.parse import urlsplit

import pytest

from pytest_dai.client import defaults
from pytest_dai.glue.settings import server_options

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_dai.client.credentials import CsvCredentials

__all__ = [
    "DIST_MODES",
    "LIST_KINDS",
    "OFFLINE_AGENT_MODES",
    "RESULT_URL_PLACEHOLDERS",
    "RUN_URL_PLACEHOLDERS",
    "Given",
    "read_csv",
    "shown",
    "template_fields",
]

RUN_URL_PLACEHOLDERS = ("url", "run_id", "execution_id")
RESULT_URL_PLACEHOLDERS = ("url", "id", "task_instance_id", "test_config_id")
DIST_MODES = ("agent", "no")
#: ``dai_offline_agent``: wait for an offline agent (up to the run deadline), or fail at once.
OFFLINE_AGENT_MODES = (defaults.OFFLINE_AGENT, "fail")
#: ``--dai-list``: what it lists.
LIST_KINDS = ("models", "agents", "configs")
MASK = "***"
SHOWN_LIMIT = 120
_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})


class Given(NamedTuple):
    """One raw value and where it came from, able to report itself as a bad value."""

    value: str
    label: str  # "--dai-timeout", "DAI_URL", "dai_timeout", "token_url"
    origin: str  # "the command line", "the environment", "the ini file", "credentials file ..."
    source: str  # "command line (--dai-timeout)" ...
    base: Path  # relative paths are taken from here

    def fail(self, expected: str, got: str | None = None) -> NoReturn:
        """Stop pytest: ``{label} from {origin}: expected {expected}, got {got}``."""
        got = shown(self.value) if got is None else got
        raise pytest.UsageError(f"{self.label} from {self.origin}: expected {expected}, got {got}")

    @property
    def described(self) -> str:
        where = {"the command line": "on", "the environment": "in", "the ini file": "in"}
        return f"{self.label} {where.get(self.origin, 'from')} {self.origin}"


def shown(value: str) -> str:
    """``repr(value)``, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= SHOWN_LIMIT else text[: SHOWN_LIMIT - 4] + "...'"


def to_url(given: Given) -> str:
    text = given.value.strip()
    expected = "an http:// or https:// URL"
    try:
        parts = urlsplit(text)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        given.fail(expected, shown(hide_userinfo(text)))
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or not port_ok:
        given.fail(expected, shown(hide_userinfo(text)))
    if any(ch.isspace() for ch in text):
        given.fail(f"{expected} without spaces", shown(hide_userinfo(text)))
    if parts.username is not None or parts.password is not None:
        given.fail(f"{expected} without user:password", shown(hide_userinfo(text)))
    if parts.query or parts.fragment:
        given.fail(f"{expected} without a query or fragment", shown(text))
    return text.rstrip("/")


def hide_userinfo(text: str) -> str:
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    netloc, slash, path = rest.partition("/")
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    return f"{scheme}{sep}{netloc}{slash}{path}"


def to_text(given: Given) -> str:
    text = given.value.strip()
    if not text:
        given.fail("a non-empty value")
    return text


def to_realm(given: Given) -> str:
    text = to_text(given)
    if any(ch.isspace() or ch in "/?#%" for ch in text):
        given.fail("a realm name without spaces, '/', '?', '#' or '%'")
    return text


def to_path(given: Given) -> str:
    text = given.value.strip()
    if not text:
        given.fail("a file path")
    return os.path.normpath(given.base / Path(text).expanduser())


def to_output_file(given: Given) -> str:
    """A file to write at the end of the session: checked now, not after hours of runs."""
    path = to_path(given)
    if os.path.isdir(path):
        given.fail(f"a file to write, but {path} is a folder")
    folder = os.path.dirname(path) or "."
    existing = folder
    while existing and not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if existing and (not os.path.isdir(existing) or not os.access(existing, os.W_OK)):
        given.fail(f"a file to write, but {existing} is not a folder this user can write to")
    return path


def to_folder(given: Given) -> str:
    """A folder to write into (made when first needed): checked now."""
    path = to_path(given)
    existing = path
    while existing and not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if os.path.exists(path) and not os.path.isdir(path):
        given.fail(f"a folder, but {path} is a file")
    if existing and not os.access(existing, os.W_OK):
        given.fail(f"a folder this user can write to, but {existing} is not writable")
    return path


def to_ca_cert(given: Given) -> str:
    path = to_path(given)
    if not os.path.exists(path):
        given.fail(f"an existing CA bundle (PEM) file or directory, but {path} does not exist")
    return path


def to_positive(given: Given) -> float:
    return to_float(given, "a number > 0", lambda n: n > 0)


def to_positive_seconds(given: Given) -> float:
    return to_float(given, "a number of seconds > 0", lambda n: n > 0)


def to_at_least_zero(given: Given) -> float:
    return to_float(given, "a number >= 0", lambda n: n >= 0)


def to_seconds_at_least_zero(given: Given) -> float:
    return to_float(given, "a number of seconds >= 0", lambda n: n >= 0)


def to_flag(given: Given) -> bool:
    """A command line flag given: on."""
    return True


def to_secret(given: Given) -> str:
    """The client secret, as given (never shown, never stripped)."""
    return given.value


def to_result_url(given: Given) -> str:
    """The ``dai_result_url`` template."""
    return to_run_url(given, RESULT_URL_PLACEHOLDERS)


def to_float(given: Given, expected: str, ok: Callable[[float], bool]) -> float:
    try:
        number = float(given.value.strip())
    except ValueError:
        given.fail(expected)
    if not math.isfinite(number) or not ok(number):
        given.fail(expected)
    return number


def to_retries(given: Given) -> int:
    expected = "a whole number of attempts >= 1"
    text = given.value.strip()
    try:
        number = int(text)
    except ValueError:
        given.fail(expected)
    if number < 1:
        given.fail(expected)
    return number


def to_count(given: Given) -> int:
    """A whole number >= 1 (``64.0``, as a TOML number may come, counts as 64)."""
    try:
        number = float(given.value.strip())
    except ValueError:
        given.fail("a whole number >= 1")
    if not math.isfinite(number) or not number.is_integer() or number < 1:
        given.fail("a whole number >= 1")
    return int(number)


def to_bool(given: Given) -> bool:
    text = given.value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    given.fail("true or false (or yes/no, on/off, 1/0)")


def to_auth(given: Given) -> str:
    """``dai_auth``: ``keycloak`` or ``v2``."""
    return server_options.to_auth(given.value, given.fail)


def to_api_version(given: Given) -> str:
    from pytest_dai.client.api_version import API_VERSION_SETTINGS

    text = given.value.strip().lower()
    if text not in API_VERSION_SETTINGS:
        given.fail(", ".join(API_VERSION_SETTINGS[:-1]) + " or " + API_VERSION_SETTINGS[-1])
    return text


def to_dist(given: Given) -> str:
    text = given.value.strip().lower()
    if text not in DIST_MODES:
        given.fail(" or ".join(DIST_MODES))
    return text


def to_offline_agent(given: Given) -> str:
    return _one_of(given, OFFLINE_AGENT_MODES)


def to_list_kind(given: Given) -> str:
    return _one_of(given, LIST_KINDS)


def _one_of(given: Given, words: tuple[str, ...]) -> str:
    text = given.value.strip().lower()
    if text not in words:
        given.fail(" or ".join(words))
    return text


def template_fields(template: str) -> list[tuple[str, str]]:
    """``(field name, "{field...}")`` of every replacement field in ``template``."""
    result = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is not None:
            text = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            result.append((name, "{" + text + "}"))
    return result


def to_run_url(given: Given, placeholders: tuple[str, ...] = RUN_URL_PLACEHOLDERS) -> str:
    template = given.value.strip()
    allowed = ", ".join("{" + name + "}" for name in placeholders)
    expected = f"a URL template with the placeholders {allowed}"
    try:
        fields = template_fields(template)
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


def to_scenario(given: Given) -> str:
    if given.value == "":
        return ""
    path = to_path(given)
    if path.lower().endswith(".json") and not os.path.isfile(path):
        reason = "is a folder" if os.path.isdir(path) else "does not exist"
        raise pytest.UsageError(f"--dai-simulator: scenario file {shown(given.value)} {reason}")
    if not path.lower().endswith(".json"):
        raise pytest.UsageError(
            f"--dai-simulator: expected a scenario .json file, got {shown(given.value)} "
            "(write --dai-simulator=FILE, or put --dai-simulator after the test paths)"
        )
    return path


def read_csv(given: Given) -> CsvCredentials:
    from pytest_dai.client.errors import DAIConfigError

    path = to_path(given)
    try:
        from pytest_dai.client.credentials import read_credentials_csv

        return read_credentials_csv(path, source=given.described)
    except DAIConfigError as exc:
        raise pytest.UsageError(str(exc)) from None


def to_parameters_file(given: Given) -> str:
    """A JSON file of parameter overrides, read now so a bad one stops the run at once."""
    from pytest_dai.client.errors import DAIConfigError
    from pytest_dai.glue.settings.parameters_file import read_parameters_file

    path = to_path(given)

    try:
        read_parameters_file(path, given.described)
    except DAIConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    return path
