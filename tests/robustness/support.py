"""Helpers of the robustness tests: the scenario, inner pytest processes, the journal, and
small waits on the simulator."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pytest_dai.simulator import DAISimulator

EXECUTIONS = "/execution_service/api/v1/executions"
CLIENT_ID = "client:dai:agent:robustness"
#: Long enough that a stray substring match is impossible, and unlike anything else printed.
SECRET = "rob-S3cret-7c41e9d2b8"

#: Options every inner session gets: fast polling.
FAST = ("--dai-poll-interval=0.1",)

#: The header line of a session that aborted a run left by a killed one.
REAPED = "dai: aborted 1 run left by an earlier, killed session"

# time_scale 1000: a step of 100 simulated seconds takes 0.1 s; "Long" runs for 10 minutes.
SCENARIO: dict[str, Any] = {
    "credentials": {"client_id": CLIENT_ID, "client_secret": SECRET},
    "time_scale": 1000,
    "abort_delay": 0.05,
    "agents": [{"id": f"a{n}"} for n in range(1, 9)],
    "models": [
        {
            "id": "m-long",
            "name": "Long",
            "steps": [
                {"name": "Warm up", "duration": 100},
                {"name": "Soak", "duration": 600_000},
            ],
        },
        {
            "id": "m-short",
            "name": "Short",
            "steps": [
                {"name": "Open shop", "duration": 150},
                {"name": "Search", "duration": 150},
                {"name": "Pay", "duration": 150},
            ],
        },
        {
            "id": "m-fail",
            "name": "Failing",
            "steps": [
                {"name": "Open shop", "duration": 50},
                {"name": "Pay", "duration": 50, "outcome": "failed", "message": "Card declined"},
            ],
        },
        {
            "id": "m-error",
            "name": "Erroring",
            "steps": [
                {"name": "Open shop", "duration": 50},
                {"name": "Connect", "duration": 50, "outcome": "error", "message": "SUT lost"},
            ],
        },
    ],
}


def scenario(**changes: Any) -> dict[str, Any]:
    """A deep copy of :data:`SCENARIO` with top-level keys replaced."""
    data = copy.deepcopy(SCENARIO)
    data.update(changes)
    return data


def point_at(monkeypatch: pytest.MonkeyPatch, url: str, client_id: str, secret: str) -> None:
    """Point inner sessions at a server through the environment only (other DAI_* cleared)."""
    for name in list(os.environ):
        if name.startswith("DAI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DAI_URL", url)
    monkeypatch.setenv("DAI_CLIENT_ID", client_id)
    monkeypatch.setenv("DAI_CLIENT_SECRET", secret)


def inner_popen(pytester: pytest.Pytester, *args: str) -> subprocess.Popen[bytes]:
    """Start an inner pytest in its own process group (its xdist workers too), so a signal can
    reach just it and a failed test can kill all of it."""
    base = pytester.path / f"basetemp-{time.monotonic_ns()}"
    cmd = [sys.executable, "-m", "pytest", f"--basetemp={base}", *args]
    return pytester.popen(
        cmd,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=pytester.path,
        # Python's own SIGINT handler, even where this process was started with SIGINT ignored
        # (a job put in the background by a non-interactive shell).
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def finish(process: subprocess.Popen[bytes], timeout: float = 60.0) -> tuple[str, int]:
    """Wait for an inner pytest (killing its group if it hangs); its output and exit code."""
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        kill_group(process)
    return (out + err).decode(errors="replace"), process.returncode


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL what is left of an inner pytest's process group (it is its group's leader)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.communicate()


def wait_running(
    sim: DAISimulator, process: subprocess.Popen[bytes], model: str, timeout: float = 30.0
) -> bool:
    """Wait until a run of ``model`` is Running and has been polled since it started (so the
    inner session is in its wait), or the inner pytest has ended."""

    def ready(s: DAISimulator) -> bool:
        if process.poll() is not None:
            return True
        for ex in s.executions():
            if ex["model_name"] == model and ex["status"] == "Running":
                started = ex["started_at"] or 0
                return any(
                    r.method == "GET" and r.path == "/ai/runs" and r.time > started + 0.05
                    for r in s.request_log()
                )
        return False

    return sim.wait_for(ready, timeout=timeout) and process.poll() is None


def journal_files(project: Path) -> list[Path]:
    """The in-flight journal entries under ``project``: the cache's folder, or the temporary
    folder (``TMPDIR`` is set inside ``project`` by the tests that turn the cache off)."""
    return sorted(project.glob("**/*.run.json"))


def statuses(sim: DAISimulator) -> list[str]:
    """The status of every execution on the simulator, oldest first."""
    return [str(ex["status"]) for ex in sim.executions()]


def wait_idle(sim: DAISimulator, timeout: float = 5.0) -> bool:
    """Wait until no run is going on the simulator (aborts take ``abort_delay``)."""
    return sim.wait_for(lambda s: s.running_count() == 0, timeout=timeout)


TOKEN_PATH = "/auth/realms/eggplant/protocol/openid-connect/token"
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
    process = inner_popen(pytester, *FAST, "test_long.py")
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
