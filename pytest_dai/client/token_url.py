"""Where DAI's Keycloak issues tokens when no token URL is given (contract section 1).

Kept apart from :mod:`pytest_dai.client.credentials` so that the settings can name it without
importing the client.
"""

from __future__ import annotations

from pytest_dai.client.defaults import TOKEN_PATH

__all__ = ["TOKEN_PATH", "default_token_url"]


def default_token_url(url: str, realm: str) -> str:
    """The token URL of DAI server ``url`` for ``realm``."""
    return url.rstrip("/") + TOKEN_PATH.format(realm=realm)
