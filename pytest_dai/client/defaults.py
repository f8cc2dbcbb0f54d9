"""The default value of each pytest-dai setting, written once.

The settings table (:mod:`pytest_dai.glue.settings.table`) shows and documents them, the
:class:`~pytest_dai.glue.settings.values.Settings` fields take them, and the constructors of the
client and the lifecycle use them as their keyword defaults. Every layer may read this module: it
imports nothing.
``tests/plugin/test_settings_table.py`` fails when one of these literals shows up a second time
in the product code.
"""

from __future__ import annotations

__all__ = [
    "API_VERSION",
    "ARTIFACTS",
    "AUTH",
    "BACKOFF_FACTOR",
    "CLIENT_ID",
    "DIST",
    "OFFLINE_AGENT",
    "POLL_INTERVAL",
    "REALM",
    "REQUEST_ATTEMPTS",
    "REQUEST_TIMEOUT",
    "RESULT_URL",
    "RUN_DEADLINE",
    "RUN_URL",
    "TOKEN_PATH",
    "V2_AUTH_PATH",
]

#: Keycloak realm of DAI's token endpoint.
REALM = "eggplant"
#: OAuth client id of DAI's API Access integration client.
CLIENT_ID = "client:dai:agent:integration"
#: The token endpoint's path on the DAI server, for a Keycloak realm (no token URL given).
TOKEN_PATH = "/auth/realms/{realm}/protocol/openid-connect/token"
#: The token endpoint of newer servers (``dai_auth = v2``).
V2_AUTH_PATH = "/api/v2/auth"
#: How to get a token: ``keycloak`` or ``v2``.
AUTH = "keycloak"
#: Which public API (``/api/v2``, DAI 7.5 and later, or ``/api/v1``, DAI 7.4): ``auto``,
#: ``v1`` or ``v2``.
API_VERSION = "auto"
#: Seconds one HTTP attempt may take (connect and every read).
REQUEST_TIMEOUT = 30.0
#: Attempts per HTTP request.
REQUEST_ATTEMPTS = 5
#: urllib3 ``Retry`` backoff factor between attempts.
BACKOFF_FACTOR = 0.5
#: Deadline of one run, seconds (0: none).
RUN_DEADLINE = 7200.0
#: Longest wait between two status polls of a run, seconds.
POLL_INTERVAL = 5.0
#: A model run's page address.
RUN_URL = "{url}/runs/{run_id}"
#: A test configuration result's page address.
RESULT_URL = "{url}/controller/results/runs/{id}"
#: Folder for failure evidence and DAI's JUnit of test configurations.
ARTIFACTS = "dai-artifacts"
#: xdist scheduling: ``no`` leaves xdist's own ``--dist``.
DIST = "no"
#: What a test does while its run is queued for an agent the server lists as offline.
OFFLINE_AGENT = "wait"
#: The most runs started ahead (``--dai-prestart``) and not yet waited for, per process.
PRESTART_LIMIT = 64
