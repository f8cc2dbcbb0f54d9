"""The DAI simulator's face: :class:`DAISimulator`, a real HTTP server on loopback implementing
the wire contract (``docs/dai-api.md``), usable with or without pytest (like
pytest-httpserver's ``HTTPServer``).

The rooms behind it: :mod:`~pytest_dai.simulator.transport` (the HTTP server and its thread),
:mod:`~pytest_dai.simulator.routes` (what each request gets),
:mod:`~pytest_dai.simulator.validation` (request bodies), :mod:`~pytest_dai.simulator.state`
(scenario, engine, faults, dialect, request log) and :mod:`~pytest_dai.simulator.engine` (runs
and agents, brought up to date at every request and every Python-side call, so no background
thread is needed besides the server's own).
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING, Any

from pytest_dai.simulator.auth import V2_AUTH_PATH
from pytest_dai.simulator.faults import Faults
from pytest_dai.simulator.routes import EXECUTIONS_PATH, serve
from pytest_dai.simulator.scenario import Scenario
from pytest_dai.simulator.screenshots import failing_image_id, screenshot_answer
from pytest_dai.simulator.state import RequestRecord, SimState, as_dialect
from pytest_dai.simulator.transport import Listener

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path
    from types import TracebackType

    from pytest_dai.simulator.dialects import Dialect

__all__ = ["DAISimulator", "RequestRecord"]


class DAISimulator:
    """A simulated Eggplant DAI server on loopback.

    ``scenario``: ``None`` (the packaged default), a JSON file path, a dict or a
    :class:`Scenario`. ``port=0`` picks a free port; :meth:`stop` then :meth:`start` restarts on
    the same port with all state kept. ``faults`` and ``dialect`` (a :class:`Dialect` or a preset
    name from ``DIALECTS``) override the scenario's. ``on_request`` is called with the
    :class:`RequestRecord` of every request as it is answered, just before the answer goes out
    (the CLI's ``--verbose``).
    """

    def __init__(
        self,
        scenario: Scenario | Mapping[str, Any] | str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        dialect: Dialect | str | None = None,
        on_request: Callable[[RequestRecord], None] | None = None,
    ) -> None:
        self.scenario = Scenario.load(scenario)
        self.host = host
        self._state = SimState(self.scenario, faults, dialect, on_request)
        self._listener = Listener(host, port, functools.partial(serve, self._state))

    # -- life ----------------------------------------------------------------------------------

    def start(self) -> DAISimulator:
        """Start serving (a no-op when already serving); returns ``self``."""
        self._listener.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection; idempotent. State is kept."""
        self._listener.stop()

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections."""
        return self._listener.running

    def __enter__(self) -> DAISimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._listener.port else "not started"
        return f"<DAISimulator {where} realm={self.realm!r}>"

    # -- addresses and credentials -------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port (known once started)."""
        if not self._listener.port:
            raise RuntimeError("the DAI simulator has not been started yet: call start()")
        return self._listener.port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT`` (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def realm(self) -> str:
        """The Keycloak realm."""
        return self.scenario.realm

    @property
    def token_url(self) -> str:
        """The token endpoint."""
        return f"{self.url}/auth/realms/{self.realm}/protocol/openid-connect/token"

    @property
    def v2_auth_url(self) -> str:
        """The second token scheme's endpoint (``dai_auth = v2``)."""
        return f"{self.url}{V2_AUTH_PATH}"

    @property
    def client_id(self) -> str:
        """The accepted client id."""
        return self.scenario.client_id

    @property
    def client_secret(self) -> str:
        """The accepted client secret."""
        return self.scenario.client_secret

    @property
    def on_request(self) -> Callable[[RequestRecord], None] | None:
        """Called with every answered request's :class:`RequestRecord` (or ``None``)."""
        return self._state.on_request

    @on_request.setter
    def on_request(self, value: Callable[[RequestRecord], None] | None) -> None:
        self._state.on_request = value

    # -- faults and dialect --------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        """The live :class:`Faults`; changing its fields takes effect at the next request."""
        return self._state.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self._state.replace_faults(value)

    def set_faults(self, **fields: Any) -> Faults:
        """Replace the named fault fields at once (``ValueError`` on a bad name or value)."""
        return self._state.set_faults(**fields)

    def clear_faults(self) -> None:
        """Remove every fault."""
        self.faults = Faults()

    @property
    def dialect(self) -> Dialect:
        """The live :class:`Dialect`."""
        return self._state.dialect

    @dialect.setter
    def dialect(self, value: Dialect | str) -> None:
        checked = as_dialect(value)
        with self._state.lock:
            self._state.dialect = checked

    def set_dialect(self, **fields: Any) -> Dialect:
        """Replace the named dialect fields at once (``ValueError`` on a bad name or value)."""
        return self._state.set_dialect(**fields)

    def reset(self) -> None:
        """Put back the faults and the dialect the simulator was created with (the scenario's,
        or the ``faults`` and ``dialect`` arguments). Runs, tokens and the request log stay.
        The ``dai_simulator`` fixture calls this after every test that used it."""
        self._state.reset()

    # -- Python-side views (never affected by faults) ------------------------------------------

    def request_log(self) -> list[RequestRecord]:
        """A copy of the request log (the last 100,000 requests)."""
        with self._state.lock:
            return list(self._state.log)

    def clear_log(self) -> None:
        """Forget the logged requests."""
        with self._state.lock:
            self._state.log.clear()

    def issued_tokens(self) -> list[str]:
        """Every access token issued so far."""
        with self._state.lock:
            return list(self._state.engine.issued)

    def token_requests(self) -> int:
        """Requests that reached the token endpoint (not counting ones failed by a fault)."""
        with self._state.lock:
            return self._state.engine.token_requests

    def expire_tokens(self) -> None:
        """Make every token issued so far expired, as if their lifetime had run out."""
        with self._state.lock:
            now = time.time()
            tokens = self._state.engine.tokens
            for token in tokens:
                tokens[token] = min(tokens[token], now)

    def executions(self) -> list[dict[str, Any]]:
        """A snapshot of every execution, oldest first (canonical status words)."""
        with self._state.lock:
            engine = self._state.engine
            now = time.time()
            engine.advance(now)
            return [engine.snapshot(run, now) for run in engine.runs]

    def execution(self, execution_id: str | int) -> dict[str, Any] | None:
        """A snapshot of one execution by id (uuid or number), or ``None``."""
        with self._state.lock:
            engine = self._state.engine
            now = time.time()
            engine.advance(now)
            found = engine.find(str(execution_id))
            return None if found is None else engine.snapshot(found, now)

    def failing_screenshot(self, execution_id: str | int) -> tuple[str, bytes] | None:
        """``(image id, PNG)`` of the screenshot the failing action of a finished run saw (the
        frame a client finds by walking back from the failing log entry), or ``None``."""
        with self._state.lock:
            engine = self._state.engine
            now = time.time()
            engine.advance(now)
            found = engine.find(str(execution_id))
            image = None if found is None else failing_image_id(found)
            if found is None or image is None:
                return None
            return image, screenshot_answer(found, image, Faults(), now)[1]

    def running_count(self) -> int:
        """Executions not yet final (queued or running)."""
        with self._state.lock:
            self._state.engine.advance(time.time())
            return self._state.engine.running_count()

    def agents(self) -> list[dict[str, Any]]:
        """A snapshot of every agent: id, name, hosted, online, status."""
        with self._state.lock:
            self._state.engine.advance(time.time())
            return [
                {
                    "id": agent.spec.id,
                    "name": agent.spec.name,
                    "hosted": agent.spec.hosted,
                    "online": agent.online,
                    "status": agent.status,
                    "queued": len(agent.queue),
                }
                for agent in self._state.engine.agents
            ]

    def created_agents(self) -> list[str]:
        """Ids of the agents created by ``POST /ai/agents`` (a client should never create one)."""
        with self._state.lock:
            return list(self._state.engine.created_agents)

    def set_agent_online(self, agent_id: str, online: bool = True) -> None:
        """Bring an agent online (its queue starts) or take it offline (``KeyError``)."""
        with self._state.lock:
            self._state.engine.set_agent_online(agent_id, online, time.time())

    def abort_requests(self, execution_id: str | None = None) -> list[RequestRecord]:
        """The abort (E3 ``DELETE``) requests received, optionally only for one execution."""
        prefix = EXECUTIONS_PATH + "/"
        with self._state.lock:
            log = self._state.log
            records = [r for r in log if r.method == "DELETE" and r.path.startswith(prefix)]
            if execution_id is None:
                return records
            keys = {str(execution_id)}
            found = self._state.engine.find(str(execution_id))
            if found is not None:
                keys |= {found.uuid, str(found.number)}
            return [r for r in records if r.path[len(prefix) :] in keys]

    def wait_for(
        self,
        predicate: Callable[[DAISimulator], bool],
        timeout: float = 10.0,
        interval: float = 0.02,
    ) -> bool:
        """Poll ``predicate(self)`` until it is true (``True``) or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate(self):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)
