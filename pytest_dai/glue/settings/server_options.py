"""Settings that follow what real DAI servers do (contract revision 2): the default agent and
the authentication scheme. Rows of the settings table (:mod:`pytest_dai.glue.settings.table`),
with the same precedence and one-line errors as the others; their helpers are here.

- ``dai_agent`` (``--dai-agent``, ``DAI_AGENT``): the agent of a marked test whose marker names
  none. With no agent anywhere the run is started with ``agent: null``, which on DAI means no
  agent at all (contract 2.1), not "the server picks"; reports then say "no agent".
- ``dai_auth`` (``--dai-auth``, ``DAI_AUTH``): ``keycloak`` (default, the OAuth form post of
  contract section 1) or ``v2`` (``POST {url}/api/v2/auth`` with a JSON body, seen on DAI 26).
"""

from __future__ import annotations

from typing import Any

__all__ = ["AUTH_SCHEMES", "NO_AGENT", "to_auth"]

AUTH_SCHEMES = ("keycloak", "v2")
#: What reports say for a run started with ``agent: null``.
NO_AGENT = "no agent"


def to_auth(value: str, fail: Any) -> str:
    """``keycloak`` or ``v2`` (any case); ``fail(expected)`` otherwise."""
    text = value.strip().lower()
    if text not in AUTH_SCHEMES:
        fail(" or ".join(AUTH_SCHEMES))
    return text
