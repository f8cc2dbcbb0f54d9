"""Helpers of the robustness tests: the scenario, inner pytest processes, the journal, and
small waits on the simulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from harness.inner import FAST, finish, kill_group, popen
from harness.scenarios import agents, model, scenario, step, steps
from harness.simulators import wait_running
from harness.wire import EXECUTIONS, TOKEN_PATH

from pytest_dai.simulator import DAISimulator

CLIENT_ID = "client:dai:agent:robustness"
#: Long enough that a stray substring match is impossible, and unlike anything else printed.
SECRET = "rob-S3cret-7c41e9d2b8"

#: The header line of a session that aborted a run left by a killed one.
REAPED = "dai: aborted 1 run left by an earlier, killed session"

# time_scale 1000: a step of 100 simulated seconds takes 0.1 s; "Long" runs for 10 minutes.
SCENARIO: dict[str, Any] = scenario(
    CLIENT_ID,
    SECRET,
    time_scale=1000,
    agents=agents("a", 8),
    models=[
        model("m-long", "Long", step("Warm up", 100), step("Soak", 600_000)),
        model("m-short", "Short", *steps(150, "Open shop", "Search", "Pay")),
        model(
            "m-fail", "Failing", step("Open shop", 50), step("Pay", 50, "failed", "Card declined")
        ),
        model(
            "m-error", "Erroring", step("Open shop", 50), step("Connect", 50, "error", "SUT lost")
        ),
    ],
)


def journal_files(project: Path) -> list[Path]:
    """The in-flight journal entries under ``project``: the cache's folder, or the temporary
    folder (``TMPDIR`` is set inside ``project`` by the tests that turn the cache off)."""
    return sorted(project.glob("**/*.run.json"))


PROXY_PAGE = "<html><head><title>Proxy</title></head><body><h1>Sign in</h1></body></html>"


class FakeDAI:
    """A tiny stand-in DAI server on loopback whose answers a test sets per endpoint, for
    answers the simulator never gives (a start without an id, a 200 that is not JSON ...).

    ``answers`` maps ``(method, path prefix)`` to ``(status, content type, body)``; the longest
    matching prefix wins. ``requests`` lists ``(method, path)`` of what arrived.
    """

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], tuple[int, str, Any]] = {
            ("POST", TOKEN_PATH): (200, "application/json", {"access_token": "fake-token-1f2e"}),
            ("GET", "/ai/models"): (200, "application/json", [{"id": "m-short", "name": "Short"}]),
            ("GET", "/ai/agents"): (200, "application/json", [{"id": "a1", "status": "Online"}]),
            ("POST", EXECUTIONS): (201, "application/json", {"id": "ex-1", "status": "Queued"}),
            ("DELETE", EXECUTIONS + "/"): (204, "application/json", None),
            ("GET", "/ai/runs"): (200, "application/json", [run_record("Passed")]),
            ("GET", "/ai/runlogs/"): (200, "application/json", {"items": [], "total_count": 0}),
        }
        self.requests: list[tuple[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                fake.requests.append((self.command, path))
                status, kind, body = fake.answer(self.command, path)
                data = (
                    b""
                    if body is None
                    else body.encode()
                    if isinstance(body, str)
                    else json.dumps(body).encode()
                )
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, method: str, path: str) -> tuple[int, str, Any]:
        """The answer for a request (404 when none is set)."""
        found = [
            (len(prefix), answer)
            for (verb, prefix), answer in self.answers.items()
            if verb == method and path.startswith(prefix)
        ]
        return max(found)[1] if found else (404, "application/json", {"detail": "Not Found"})

    def __enter__(self) -> FakeDAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_record(status: str, *, ended: bool = True) -> dict[str, Any]:
    """A run record of execution ``ex-1`` (run 7) with ``status``, ended or not."""
    record: dict[str, Any] = {
        "id": 7,
        "execution_id": "ex-1",
        "status": status,
        "modelname": "Short",
        "starttime": "2026-01-01T10:00:00Z",
    }
    if ended:
        record["endtime"] = "2026-01-01T10:00:05Z"
    return record


#: An inner test that waits for a 10-minute run.
LONG_MODULE = """
import pytest

@pytest.mark.dai_model("Long", agent="a1")
def test_long():
    pass
"""

PLAIN_MODULE = """
def test_plain():
    pass
"""


def start_long_run(pytester: pytest.Pytester, sim: DAISimulator) -> subprocess.Popen[bytes]:
    """Start an inner session waiting for a "Long" run; return it once the run is going."""
    pytester.makepyfile(test_long=LONG_MODULE, test_plain=PLAIN_MODULE)
    process = popen(pytester, *FAST, "test_long.py")
    if not wait_running(sim, process, "Long"):
        kill_group(process)
        raise AssertionError(f"no run going: {sim.executions()}")
    return process


def sigkill_during_run(pytester: pytest.Pytester, sim: DAISimulator) -> None:
    """SIGKILL an inner session while its run is going: the run and its journal entry stay."""
    process = start_long_run(pytester, sim)
    os.kill(process.pid, signal.SIGKILL)
    output, rc = finish(process)
    assert rc == -signal.SIGKILL, output
    assert (sim.running_count(), len(journal_files(pytester.path))) == (1, 1), output
