"""Settings that follow what real DAI servers do (contract revision 2): the default agent and
the authentication scheme. Registered and converted here; :mod:`pytest_dai.glue.options`
resolves them with the others (same precedence and one-line errors).

- ``dai_agent`` (``--dai-agent``, ``DAI_AGENT``): the agent of a marked test whose marker names
  none. With no agent anywhere the run is started with ``agent: null``, which on DAI means no
  agent at all (contract 2.1), not "the server picks"; reports then say "no agent".
- ``dai_auth`` (``--dai-auth``, ``DAI_AUTH``): ``keycloak`` (default, the OAuth form post of
  contract section 1) or ``v2`` (``POST {url}/api/v2/auth`` with a JSON body, seen on DAI 26).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pytest

__all__ = ["AUTH_SCHEMES", "NO_AGENT", "V2_AUTH_PATH", "add_server_options", "agent_label"]

AUTH_SCHEMES = ("keycloak", "v2")
V2_AUTH_PATH = "/api/v2/auth"
#: What reports say for a run started with ``agent: null``.
NO_AGENT = "no agent"


class _Ini(Protocol):
    def __call__(self, name: str, help: str, kind: str = "string") -> None: ...


def add_server_options(group: Any, ini: _Ini) -> None:
    """Register ``--dai-agent``, ``--dai-auth`` and their ini keys."""
    group.addoption(
        "--dai-agent",
        dest="dai_agent",
        metavar="AGENT",
        default=None,
        help="Agent (id or name) for marked tests whose marker names none (env DAI_AGENT, "
        "ini dai_agent; default none: such runs use no agent).",
    )
    group.addoption(
        "--dai-auth",
        dest="dai_auth",
        metavar="SCHEME",
        default=None,
        help="How to get a token: keycloak (OAuth client credentials, the default) or v2 "
        "(POST {url}/api/v2/auth, newer servers) (env DAI_AUTH, ini dai_auth).",
    )
    ini("dai_agent", "Agent for marked tests whose marker names none (default: no agent).")
    ini("dai_auth", "Token scheme: keycloak (default) or v2 (POST {url}/api/v2/auth).")


def to_auth(value: str, fail: Any) -> str:
    """``keycloak`` or ``v2`` (any case); ``fail(expected)`` otherwise."""
    text = value.strip().lower()
    if text not in AUTH_SCHEMES:
        fail(" or ".join(AUTH_SCHEMES))
    return text


def agent_label(agent: str | None) -> str:
    """An agent's name for reports, or "no agent"."""
    return agent or NO_AGENT


def marker_agent(item: pytest.Item) -> str | None:
    """The agent a marked test's run uses: the marker's ``agent=``, else ``dai_agent``."""
    marker = item.get_closest_marker("dai_model")
    agent = marker.kwargs.get("agent") if marker is not None else None
    if agent not in (None, ""):
        return str(agent)
    from pytest_dai.glue.options import SETTINGS_KEY

    settings = item.config.stash.get(SETTINGS_KEY, None)
    return settings.agent if settings is not None else None
