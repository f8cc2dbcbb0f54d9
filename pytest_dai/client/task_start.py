"""The retry of starting a test configuration (E7): one transient 500 is tried again (seen on
DAI 26.2.2), never a second one, and otherwise a start is never sent twice where it may have
started a run (:class:`~pytest_dai.client.http.StartSafeRetry`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pytest_dai.client.http import StartSafeRetry

if TYPE_CHECKING:
    from pytest_dai.client.endpoints import DAIClient

__all__ = ["TASK_INSTANCES_PATH", "TaskStartRetry", "mount_start_retry"]

TASK_INSTANCES_PATH = "/task_scheduler_service/api/v1/task_instances"


class TaskStartRetry(StartSafeRetry):
    """:class:`StartSafeRetry` for starting a test configuration: also retries one 500 (DAI
    26.2.2 was seen answering a single transient 500 to a start that then worked), never a
    second one."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """A POST answered 500 is retried once; otherwise as :class:`StartSafeRetry`."""
        if method.upper() == "POST" and status_code == 500:
            seen = sum(1 for attempt in self.history or () if attempt.status == 500)
            return self.total != 0 and seen == 0
        return super().is_retry(method, status_code, has_retry_after)


def mount_start_retry(client: DAIClient) -> None:
    """Give the test-configuration start's path on the client's session a
    :class:`TaskStartRetry` with the client's own retry budget and backoff."""
    prefix = client.url + TASK_INSTANCES_PATH + "/"
    session = client.session
    adapter = session.get_adapter(prefix)
    base = getattr(adapter, "max_retries", None)
    if not isinstance(base, Retry) or isinstance(base, TaskStartRetry):
        return
    retry = TaskStartRetry(
        total=base.total,
        connect=base.connect,
        read=base.read,
        status=base.status,
        other=0,
        redirect=0,
        backoff_factor=base.backoff_factor,
        backoff_max=base.backoff_max,
        status_forcelist=base.status_forcelist,
        allowed_methods=base.allowed_methods,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )
    session.mount(prefix, HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=4))
