"""The DAI session of a pytest process, made from the settings on first use: the client with
its credentials, timeouts and retries (urllib3's retry warnings sent to the debug log), and the
run lifecycle's session over it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pytest_dai.client.credentials import Credentials
from pytest_dai.client.endpoints import DAIClient
from pytest_dai.client.errors import DAIConfigError
from pytest_dai.client.token_url import default_token_url
from pytest_dai.glue.settings.values import MISSING_SERVER_MESSAGE
from pytest_dai.lifecycle.session import DAISession

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_dai.glue.settings.values import Settings
    from pytest_dai.lifecycle.journal import Journal
    from pytest_dai.lifecycle.session import AnyRun

#: Where urllib3's retry warnings go instead (enable with ``--log-level=DEBUG``).
DEBUG_LOGGER = "pytest_dai.http"


def make_session(
    settings: Settings,
    *,
    journal: Journal,
    notice: Callable[[str], None],
    on_start: Callable[[AnyRun], None],
    on_end: Callable[[AnyRun], None],
    current_test: Callable[[], str],
) -> DAISession:
    """The authenticated session; a :class:`DAIConfigError` (one line, naming the setting to
    give) when no server or no secret is configured."""
    if settings.url is None:
        raise DAIConfigError(MISSING_SERVER_MESSAGE)
    if not settings.client_secret:
        raise DAIConfigError(
            "no DAI client secret: set DAI_CLIENT_SECRET, or give the API Access CSV with "
            "--dai-credentials or DAI_CREDENTIALS"
        )
    token_url = settings.token_url or default_token_url(settings.url, settings.realm)
    quiet_retry_warnings()
    client = DAIClient(
        settings.url,
        Credentials(settings.client_id, settings.client_secret, token_url, scheme=settings.auth),
        timeout=settings.request_timeout,
        attempts=settings.request_retries,
        backoff_factor=settings.backoff_factor,
        ca_cert=settings.ca_cert,
        allow_insecure_token_url=settings.allow_insecure_token_url,
        api_version=settings.api_version,
    )
    client.api.on_decided = notice
    return DAISession(
        client,
        run_url=settings.run_url,
        poll_interval=settings.poll_interval,
        dry_run=settings.dry_run,
        on_start=on_start,
        on_end=on_end,
        journal=journal,
        current_test=current_test,
        on_notice=notice,
    )


class _RetryWarningsToDebug(logging.Filter):
    """Moves urllib3's "Retrying (...)" warnings to the debug logger :data:`DEBUG_LOGGER`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop a retry warning here; log it at debug level on our logger instead."""
        if record.levelno == logging.WARNING and str(record.msg).startswith("Retrying"):
            logging.getLogger(DEBUG_LOGGER).debug(record.getMessage())
            return False
        return True


_FILTER = _RetryWarningsToDebug()


def quiet_retry_warnings() -> None:
    """Install the filter on urllib3's connection pool logger (once)."""
    logger = logging.getLogger("urllib3.connectionpool")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
