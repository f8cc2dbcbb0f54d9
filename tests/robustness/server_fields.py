"""The server fields of ``test_server_text.py``: each field's row (:data:`FIELDS`: where the
hostile text goes, and the inner test that meets it), the scenario with a model or test
configuration a field, and the proxy that puts the hostile text into the simulator's answers
(:class:`Rewriter`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, quote_plus

from harness.scenarios import changed, model, step

from .hostile import Proxy, Request
from .support import SCENARIO, SECRET

TOKEN_PLACEHOLDER = "@@TOKEN@@"


def hostile(tag: str) -> str:
    """Every kind of attack in one string, under 200 characters once the secret and the token
    are masked (longer would be cut, and the attacks at its end never tested)."""
    return (
        f"::stop-commands::{tag}-LEAD {SECRET} {TOKEN_PLACEHOLDER}\n::error::{tag}-CMD"
        f"\r\n##[error]\x1b]8;;x\x07\x1b[2J[[ATTACHMENT|/etc/passwd]]"
        f"<script>I('{tag}')</script><img src=x onerror=I()>\" onclick=\"I()"
        f"[L]({EVIL})![P]({EVIL})"
    )


#: Where the hostile text's links and images go (short: the text must fit in 200 characters).
EVIL = "https://e.vil"


# -- the fields: which answer carries the hostile text, and the test that reads it -----------------


@dataclass(frozen=True)
class Field:
    """A server field: its ``tag`` (in its hostile text), the inner test that meets it, and
    where the proxy puts it: in records of answers whose path has ``path``, that have
    ``match`` (key, value), under ``keys``. ``start_model``: in the start answer (E1) of that
    model's run instead."""

    tag: str
    name: str
    test: str
    path: str = ""
    match: tuple[str, str] = ("", "")
    keys: tuple[str, ...] = ()
    start_model: str = ""


def _model_test(name: str, model_name: str, agent: str, timeout: float = 0) -> str:
    extra = f", timeout={timeout}" if timeout else ""
    return (
        f'@pytest.mark.dai_model("{model_name}", agent="{agent}"{extra})\n'
        f"def test_{name}():\n    pass\n"
    )


def _config_test(name: str, config_id: str) -> str:
    return f'@pytest.mark.dai_test_config("{config_id}")\ndef test_{name}():\n    pass\n'


RUNS = "/ai/runs"
RUN_LOG = "/ai/runlogs/"
RESULTS = "test_config_results"
TEST_RESULTS = "test_results"
CONFIGS = "test_configurations"
MODELS = "/ai/models"

FIELDS: tuple[Field, ...] = (
    Field("F01", "run status word", _model_test("status", "M-status", "a1"), RUNS,
          ("modelname", "M-status"), ("status",)),
    Field("F02", "run id", _model_test("run_id", "M-run-id", "a2"), RUNS,
          ("modelname", "M-run-id"), ("id",)),
    Field("F03", "execution id", _model_test("execution_id", "M-exec", "a3", timeout=2),
          start_model="m-exec"),
    Field("F04", "agent name", _model_test("agent", "M-agent", "a4"), RUNS,
          ("modelname", "M-agent"), ("agentname", "agent_name")),
    Field("F05", "model name", _model_test("model", "m-model", "a5"), MODELS,
          ("modeluuid", "m-model"), ("name",)),
    Field("F06", "run log message", _model_test("log", "M-log", "a6")),  # (in the scenario)
    Field("F07", "run log time", _model_test("log_time", "M-log-time", "a7"), RUN_LOG,
          ("run_model", "M-log-time"), ("eventtime", "timestamp")),
    Field("F08", "run log severity", _model_test("log_severity", "M-log-severity", "a8"),
          RUN_LOG, ("run_model", "M-log-severity"), ("severity",)),
    Field("F10", "step name", _model_test("step_name", "M-step-name", "a1")),  # (scenario)
    Field("F11", "test configuration name", _config_test("config_name", "tc-name"), CONFIGS,
          ("id", "tc-name"), ("name",)),
    Field("F12", "result id", _config_test("result_id", "tc-result-id"), RESULTS,
          ("test_config_id", "tc-result-id"), ("id",)),
    Field("F13", "result status word", _config_test("result_status", "tc-result-status"),
          RESULTS, ("test_config_id", "tc-result-status"), ("status",)),
    Field("F14", "test case name", _config_test("case_name", "tc-case-name"), TEST_RESULTS,
          ("model_name", "C-case-name"), ("test_case_name",)),
    Field("F15", "test result status word", _config_test("case_status", "tc-case-status"),
          TEST_RESULTS, ("model_name", "C-case-status"), ("status",)),
    Field("F16", "test result id", _config_test("case_id", "tc-case-id"), TEST_RESULTS,
          ("model_name", "C-case-id"), ("id",)),
    Field("F17", "test result model", _config_test("case_model", "tc-case-model"),
          TEST_RESULTS, ("model_name", "C-case-model"), ("model_name",)),
    Field("F18", "test result log message", _config_test("case_log", "tc-case-log")),
)  # fmt: skip


def _failing(model_id: str, name: str, message: str = "Card declined") -> dict[str, Any]:
    return model(model_id, name, step("Open shop", 50), step("Pay", 50, "failed", message))


def _scenario() -> dict[str, Any]:
    """The robustness scenario's agents, a failing model a field, and a test configuration
    (of a model of its own) a configuration field."""
    models = [
        _failing("m-status", "M-status"),
        _failing("m-run-id", "M-run-id"),
        model("m-exec", "M-exec", step("Open shop", 50)),
        _failing("m-agent", "M-agent"),
        _failing("m-model", "M-model"),
        _failing("m-log", "M-log", hostile("F06")),
        _failing("m-log-time", "M-log-time"),
        _failing("m-log-severity", "M-log-severity"),
        model("m-step-name", "M-step-name", step("Open", 50), step(hostile("F10"), 50, "failed")),
        _failing("c-plain", "C-plain"),
        _failing("c-case-name", "C-case-name"),
        _failing("c-case-status", "C-case-status"),
        _failing("c-case-id", "C-case-id"),
        _failing("c-case-model", "C-case-model"),
        _failing("c-case-log", "C-case-log", hostile("F18")),
        model("c-fan", "C-fan", step("Open shop", 50)),
    ]

    def config(config_id: str, model_name: str) -> dict[str, Any]:
        return {"id": config_id, "name": config_id.upper(), "runs": [{"model": model_name}]}

    configs = [
        config("tc-name", "C-plain"),
        config("tc-result-id", "C-plain"),
        config("tc-result-status", "C-plain"),
        config("tc-case-name", "C-case-name"),
        config("tc-case-status", "C-case-status"),
        config("tc-case-id", "C-case-id"),
        config("tc-case-model", "C-case-model"),
        config("tc-case-log", "C-case-log"),
        config("tc-fan", "C-fan"),
    ]
    return changed(SCENARIO, models=models, test_configs=configs)


class Rewriter(Proxy):
    """The proxy that puts each field's hostile text into the simulator's answers (see
    :class:`Field`), and the token each request carried wherever the text says
    :data:`TOKEN_PLACEHOLDER`."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self._lock = threading.Lock()
        self._run_models: dict[str, str] = {}
        #: model name -> how many test results (E9) a test configuration's run of it lists
        #: (copies of its own, passed).
        self.fan_out: dict[str, int] = {}
        #: a hostile id as the client sends it (percent-encoded) -> the simulator's id
        self._real: dict[str, str] = {}
        #: field tag -> the text put into that field instead of :func:`hostile`'s.
        self.texts: dict[str, str] = {}

    def text(self, tag: str) -> str:
        """The hostile text of the field ``tag``."""
        return self.texts.get(tag) or hostile(tag)

    def _forward(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            real = dict(self._real)
        for sent, original in real.items():  # an id of ours, as the client sends it back
            if sent in request.path:
                request = replace(request, path=request.path.replace(sent, original))
        status, headers, body = super()._forward(request)
        try:
            payload = json.loads(body)
        except ValueError:
            return status, headers, body
        self._rewrite(request, payload)
        data = json.dumps(payload).encode()
        bearer = request.headers.get("authorization", "").partition(" ")[2].strip()
        if bearer:
            data = data.replace(TOKEN_PLACEHOLDER.encode(), bearer.encode())
        return status, headers, data

    def _rewrite(self, request: Request, payload: Any) -> None:
        path = request.path
        if TEST_RESULTS in path and "/logs" not in path:
            _inflate(payload, self.fan_out)
        if request.method == "POST" and isinstance(payload, dict):
            for field in FIELDS:
                if field.start_model and f'"{field.start_model}"'.encode() in request.body:
                    for key in ("id", "execution_id"):
                        if key in payload:
                            payload[key] = self.text(field.tag)
        run_model = ""
        if RUN_LOG in path:
            run_id = path.split(RUN_LOG, 1)[1].split("?", 1)[0]
            with self._lock:
                run_model = self._run_models.get(run_id, "")
        for record in _records(payload):
            if RUNS in path and "modelname" in record:
                with self._lock:
                    self._run_models[str(record.get("id"))] = str(record["modelname"])
            values = {**record, "run_model": run_model}
            for field in FIELDS:
                key, value = field.match
                if field.keys and field.path in path and values.get(key) == value:
                    for name in field.keys:
                        self._remember(record.get(name), self.text(field.tag))
                        record[name] = self.text(field.tag)

    def _remember(self, original: object, text: str) -> None:
        """Map ``text`` (as a path or a query sends it) back to the ``original`` id."""
        if isinstance(original, (str, int)) and not isinstance(original, bool):
            with self._lock:
                for form in (quote(text, safe=""), quote_plus(text)):
                    self._real[form] = str(original)


def _inflate(payload: Any, fan_out: dict[str, int]) -> None:
    """A test-result list (E9) with each record of a model in ``fan_out`` copied to as many."""
    items = payload.get("items") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        return
    for record in list(items):
        count = fan_out.get(str(record.get("model_name")), 0)
        for number in range(1, count):
            items.append({**record, "id": f"{record['id']}-{number}", "status": "Passed"})
    if isinstance(payload, dict) and "total_count" in payload:
        payload["total_count"] = len(items)


def _records(payload: Any) -> Iterator[dict[str, Any]]:
    """Every object of an answer (a bare record, a list, an envelope's items)."""
    if isinstance(payload, dict):
        yield payload
        for value in payload.values():
            if isinstance(value, list):
                yield from (item for item in value if isinstance(item, dict))
    elif isinstance(payload, list):
        yield from (item for item in payload if isinstance(item, dict))
