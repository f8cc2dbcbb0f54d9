"""The DAI wire client: credentials, OAuth2 auth, HTTP with retries, the calls, errors.

Import from the submodules (``pytest_dai.client.endpoints`` and so on). This package's
``__init__`` imports nothing heavy, so that ``pytest_dai.client.errors`` and
``pytest_dai.client.status`` stay cheap for the pytest glue.
"""

from __future__ import annotations
