"""The calls pytest-dai makes to the DAI API, each with what it does in words.

Messages name a call by what it does and where it went, never by the contract's short names:
``listing models (GET https://dai.example/ai/models): 503 Service Unavailable``. The contract
(``dai-api.md`` section 2) numbers the endpoints E1 to E14; those numbers appear here in
comments only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pytest_dai.client.text import escape_control_chars

__all__ = [
    "ABORT_RUN",
    "ABORT_TEST_CONFIG",
    "CONFIG_JUNIT",
    "CONFIG_RESULT",
    "CONFIG_RESULTS",
    "DEFAULT_API_VERSION",
    "LIST_AGENTS",
    "LIST_MODELS",
    "LIST_RUNS",
    "LIST_TEST_CONFIGS",
    "ONE_RUN",
    "PUBLIC_API",
    "RUN_LOG",
    "RUN_STATUS",
    "SCREENSHOT",
    "START_RUN",
    "START_TEST_CONFIG",
    "TEST_RESULTS",
    "TEST_RESULT_LOG",
    "TEST_RESULT_SCREENSHOTS",
    "Call",
    "public_path",
]

#: Where Keysight's public API lives; ``{version}`` is ``v2`` (DAI 7.5 and later) or ``v1``
#: (DAI 7.4, contract 2.7). The one place of that prefix: every public-API path is made here.
PUBLIC_API = "/api/{version}"
#: The public API version used until a server shows it has only ``v1``.
DEFAULT_API_VERSION = "v2"


def public_path(version: str, rest: str) -> str:
    """``/api/v1/test_results`` of ``("v1", "/test_results")``."""
    return PUBLIC_API.format(version=version) + rest


#: The longest id shown in a call's address (ids come from the server: untrusted).
_ID_SHOWN = 80


@dataclass(frozen=True)
class Call:
    """One kind of call: what it does (``"starting the run"``), its method and its path (ids
    in braces, e.g. ``/ai/runlogs/{run_id}``). A call of the public API (``public``: its path
    after :data:`PUBLIC_API`) has its path on :data:`DEFAULT_API_VERSION`; :meth:`on` gives it
    on another version. ``v1``: whether the public API v1 (DAI 7.4) has it too."""

    does: str
    method: str
    path: str
    public: str = ""
    v1: bool = True

    @classmethod
    def of_public_api(cls, does: str, method: str, rest: str, *, v1: bool = True) -> Call:
        """A call of the public API at ``rest`` (``/test_results``)."""
        return cls(does, method, public_path(DEFAULT_API_VERSION, rest), rest, v1)

    def on(self, version: str) -> Call:
        """This call on public API ``version`` (itself when it is not a public-API call)."""
        if not self.public:
            return self
        return replace(self, path=public_path(version, self.public))

    def request(self, base_url: str = "", **ids: object) -> str:
        """``GET https://dai.example/ai/runlogs/r-1``: the method and the address, ids shown
        escaped and cut short (an id from the server is not trusted)."""
        path = self.path
        for name, value in ids.items():
            path = path.replace("{" + name + "}", escape_control_chars(str(value))[:_ID_SHOWN])
        return f"{self.method} {base_url}{path}"

    def at(self, base_url: str = "", **ids: object) -> str:
        """How a message names the call: ``reading the run's log (GET https://.../r-1)``."""
        return f"{self.does} ({self.request(base_url, **ids)})"

    def named_in(self, endpoint: str | None) -> bool:
        """Whether an error's ``endpoint`` (made by :meth:`at`) is this call."""
        return endpoint is not None and endpoint.startswith(f"{self.does} ({self.method} ")


# Model runs (contract section 2).
START_RUN = Call("starting the run", "POST", "/execution_service/api/v1/executions")  # E1
RUN_STATUS = Call("reading the run's status", "GET", "/ai/runs")  # E2, one run
LIST_RUNS = Call("listing runs", "GET", "/ai/runs")  # E2, unfiltered
ONE_RUN = Call("reading the run's status", "GET", "/ai/runs/{run_id}")  # E2b (contract 2.7)
ABORT_RUN = Call("aborting the run", "DELETE", "/execution_service/api/v1/executions/{id}")  # E3
LIST_AGENTS = Call("listing agents", "GET", "/ai/agents")  # E4
LIST_MODELS = Call("listing models", "GET", "/ai/models")  # E5
RUN_LOG = Call("reading the run's log", "GET", "/ai/runlogs/{run_id}")  # E6
SCREENSHOT = Call.of_public_api("fetching a screenshot", "GET", "/screenshots/{image_id}")  # E12

# Test configurations (contract section 2.6).
START_TEST_CONFIG = Call(
    "starting the test configuration",
    "POST",
    "/task_scheduler_service/api/v1/task_instances/{test_config_id}",
)  # E7
CONFIG_RESULTS = Call.of_public_api(
    "reading the test configuration's results", "GET", "/test_config_results", v1=False
)  # E8 (public API v2 only: DAI 7.5 and later)
CONFIG_RESULT = Call.of_public_api(
    "reading the test configuration's result", "GET", "/test_config_results/{id}", v1=False
)  # E8, one result (public API v2: DAI 7.5 and later)
TEST_RESULTS = Call.of_public_api("reading the test case results", "GET", "/test_results")  # E9
TEST_RESULT_LOG = Call.of_public_api(
    "reading a test case's log", "GET", "/test_results/{id}/logs"
)  # E10
TEST_RESULT_SCREENSHOTS = Call.of_public_api(
    "listing a test case's screenshots", "GET", "/test_results/{id}/screenshots"
)  # E11
CONFIG_JUNIT = Call.of_public_api(
    "fetching DAI's JUnit report", "GET", "/test_config_results/{id}/junit", v1=False
)  # E13 (public API v2 only)
LIST_TEST_CONFIGS = Call(
    "listing test configurations", "GET", "/test_config_service/api/v1/test_configurations"
)  # E14
ABORT_TEST_CONFIG = Call(
    "aborting the test configuration run",
    "DELETE",
    "/task_scheduler_service/api/v1/task_instances/{id}",
)  # ours (contract 2.6)
