"""Resolution of the session settings: command line > environment > ini file > default.

Each row of the settings table (:mod:`pytest_dai.glue.settings.table`) is looked up at its three
levels, the way pytest-timeout resolves its own; the highest one given is converted by the row's
converter, and its source recorded (``"command line (--dai-timeout)"``...). A bad value stops
pytest with one line naming the setting and where it came from. Then the credentials CSV fills
what was not given, the token URL is derived, and the combination is checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from pytest_dai.client import defaults
from pytest_dai.client.errors import register_secret
from pytest_dai.client.token_url import default_token_url
from pytest_dai.glue.settings.converters import Given, read_csv, to_url
from pytest_dai.glue.settings.sources import RawSources
from pytest_dai.glue.settings.table import IGNORED_SECRET_KEY, TABLE
from pytest_dai.glue.settings.values import (
    SOURCE_DEFAULT,
    SOURCE_DERIVED,
    SOURCE_DERIVED_V2,
    Settings,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["resolve_settings"]

IGNORED_SECRET_WARNING = (
    "dai_client_secret in the ini file is ignored on purpose: a secret in a committed file "
    "leaks; set DAI_CLIENT_SECRET or give the API Access CSV (--dai-credentials)"
)


def resolve_settings(config: pytest.Config, environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve every setting of the table: command line > environment > ini file > default.

    The credentials CSV, when given, fills the client id, secret and token URL that were not
    given explicitly. ``environ`` defaults to ``os.environ``. Raises :class:`pytest.UsageError`
    with one line naming the setting and its source for any bad value.
    """
    resolver = RawSources(config, environ)
    _refuse_ini_secret(config, resolver)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for row in TABLE:
        given = resolver.given(row)
        if given is None:
            sources[row.name] = SOURCE_DEFAULT
        else:
            values[row.name] = row.convert(given)
            sources[row.name] = given.source
            if row.name == "credentials":
                _fill_from_csv(resolver, given, values, sources)
    token_url_given = sources["token_url"].startswith(("command line", "environment", "ini"))
    _derive_token_url(values, sources, token_url_given)
    _check_token_url(values, sources, bool(values.get("allow_insecure_token_url")))
    return Settings(**values, sources=sources)


def _fill_from_csv(
    resolver: RawSources, given: Given, values: dict[str, Any], sources: dict[str, str]
) -> None:
    """The API Access CSV fills the client id, secret and token URL not given explicitly
    (the table has them before the CSV's row, so they are known by now)."""
    csv = read_csv(given)
    csv_source = f"credentials file {csv.path}"
    if "client_id" not in values:
        values["client_id"] = csv.client_id
        sources["client_id"] = csv_source
    if "client_secret" not in values:
        values["client_secret"] = csv.client_secret
        sources["client_secret"] = csv_source
    if "token_url" not in values and csv.token_url:
        origin = f"credentials file {csv.path!r}"
        values["token_url"] = to_url(
            Given(csv.token_url, "token_url", origin, csv_source, resolver.cwd)
        )
        sources["token_url"] = csv_source


def _derive_token_url(values: dict[str, Any], sources: dict[str, str], given: bool) -> None:
    """No token URL given: ``{url}/api/v2/auth`` with ``dai_auth = v2`` (a CSV's token_url
    names the Keycloak endpoint, which v2 does not use), else Keycloak's under the URL."""
    if "url" not in values:
        return
    if values.get("auth") == "v2" and not given:
        values["token_url"] = values["url"] + defaults.V2_AUTH_PATH
        sources["token_url"] = SOURCE_DERIVED_V2
    if "token_url" not in values:
        realm = values.get("realm", defaults.REALM)
        values["token_url"] = default_token_url(values["url"], realm)
        sources["token_url"] = SOURCE_DERIVED


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


def _refuse_ini_secret(config: pytest.Config, resolver: RawSources) -> None:
    """A secret in the ini file is not read: one warning saying so and why (the value is
    registered as a secret, so that it is masked wherever it would show)."""
    try:
        given = resolver.ini(IGNORED_SECRET_KEY)
    except (ValueError, pytest.UsageError):  # not registered (-p no:dai ...) or not text
        return
    if given is None or not given.value.strip():
        return
    register_secret(given.value)
    config.issue_config_time_warning(pytest.PytestConfigWarning(IGNORED_SECRET_WARNING), 2)
