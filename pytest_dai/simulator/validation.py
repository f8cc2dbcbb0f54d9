"""Request validation of the DAI simulator, in FastAPI's forms: the start body (E1) and the
paging parameters of listings. Errors are FastAPI's ``{"type", "loc", "msg", "input"}``
objects, answered as ``422 {"detail": [...]}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pytest_dai.simulator.runs import StartOptions

__all__ = ["check_start", "check_start_body", "int_error", "paging"]

_NOT_AN_OBJECT = "Input should be a valid dictionary or object to extract fields from"


@dataclass
class _Errors:
    """The errors found so far in one body."""

    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, loc: list[Any], kind: str, msg: str, value: Any) -> None:
        self.items.append({"type": kind, "loc": ["body", *loc], "msg": msg, "input": value})

    def string(self, loc: list[Any], value: Any) -> None:
        self.add(loc, "string_type", "Input should be a valid string", value)

    def not_an_object(self, loc: list[Any], value: Any) -> None:
        self.add(loc, "model_attributes_type", _NOT_AN_OBJECT, value)


def int_error(loc: list[Any], value: Any) -> dict[str, Any]:
    """FastAPI's error for a parameter that is not an integer."""
    return {
        "type": "int_parsing",
        "loc": loc,
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": value,
    }


def paging(query: dict[str, str]) -> tuple[list[dict[str, Any]], int | None, int]:
    """``(errors, limit, offset)`` of a listing's query (limit None: not given)."""
    errors: list[dict[str, Any]] = []
    values: dict[str, int | None] = {"limit": None, "offset": 0}
    for name in ("limit", "offset"):
        raw = query.get(name)
        if raw is None or raw == "":
            continue
        try:
            number = int(raw)
        except ValueError:
            errors.append(int_error(["query", name], raw))
            continue
        if number < 0:
            errors.append(
                {
                    "type": "greater_than_equal",
                    "loc": ["query", name],
                    "msg": "Input should be greater than or equal to 0",
                    "input": raw,
                    "ctx": {"ge": 0},
                }
            )
            continue
        values[name] = number
    return errors, values["limit"], values["offset"] or 0


def check_start(raw: bytes) -> tuple[list[dict[str, Any]], StartOptions]:
    """Validate an E1 body: ``(errors, options)``; the options are only meaningful without
    errors."""
    try:
        data = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        error = {
            "type": "json_invalid",
            "loc": ["body", getattr(exc, "pos", 0) or 0],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": getattr(exc, "msg", str(exc))},
        }
        return [error], StartOptions()
    return check_start_body(data)


def check_start_body(data: Any) -> tuple[list[dict[str, Any]], StartOptions]:
    """Validate a parsed E1 body (see :func:`check_start`)."""
    errors = _Errors()
    options = StartOptions()
    if not isinstance(data, dict):
        errors.not_an_object([], data)
        return errors.items, options
    _check_execution_type(data, errors)
    _check_model(data, errors, options)
    _check_agent(data.get("agent"), errors, options)
    _check_ids(data, errors, options)
    _check_sut(data.get("sut"), errors)
    _check_pause(data.get("step_pause_time"), errors, options)
    _check_script(data.get("script"), errors, options)
    _check_asset(data.get("asset"), errors)
    return errors.items, options


def _check_execution_type(data: dict[str, Any], errors: _Errors) -> None:
    if "execution_type" not in data:
        errors.add(["execution_type"], "missing", "Field required", data)
    elif data["execution_type"] != "executing":
        kind = data["execution_type"]
        errors.add(["execution_type"], "literal_error", "Input should be 'executing'", kind)


def _check_model(data: dict[str, Any], errors: _Errors, options: StartOptions) -> None:
    """``model_id``: a string; it may be left out only with ``rerun_id`` or ``script``
    (contract 2.1: at least one of the three)."""
    model_id = data.get("model_id")
    if all(data.get(name) is None for name in ("model_id", "rerun_id", "script")):
        errors.add(["model_id"], "missing", "Field required", data)
    elif model_id is None:
        pass
    elif not isinstance(model_id, str):
        errors.string(["model_id"], model_id)
    else:
        options.model_id = model_id


def _check_agent(agent: Any, errors: _Errors, options: StartOptions) -> None:
    """``agent``: null (no agent) or ``{"agent_id": str, "is_hosted_agent": bool}``."""
    if agent is None:
        return
    if not isinstance(agent, dict):
        errors.not_an_object(["agent"], agent)
        return
    if "agent_id" not in agent:
        errors.add(["agent", "agent_id"], "missing", "Field required", agent)
    elif not isinstance(agent["agent_id"], str):
        errors.string(["agent", "agent_id"], agent["agent_id"])
    else:
        options.agent_id = agent["agent_id"]
    hosted = agent.get("is_hosted_agent")
    if hosted is not None and not isinstance(hosted, bool):
        msg = "Input should be a valid boolean"
        errors.add(["agent", "is_hosted_agent"], "bool_type", msg, hosted)


def _check_ids(data: dict[str, Any], errors: _Errors, options: StartOptions) -> None:
    """``test_case_id`` and ``rerun_id``: integers (or integer strings), or null."""
    for name in ("test_case_id", "rerun_id"):
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            setattr(options, name, value)
        elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
            setattr(options, name, int(value))
        else:
            errors.add([name], "int_type", "Input should be a valid integer", value)


def _check_sut(sut: Any, errors: _Errors) -> None:
    """``sut``: null or ``{"sut_id": str, "criteria": [str, ...]}``."""
    if sut is None:
        return
    if not isinstance(sut, dict):
        errors.not_an_object(["sut"], sut)
        return
    if "sut_id" in sut and not isinstance(sut["sut_id"], str):
        errors.string(["sut", "sut_id"], sut["sut_id"])
    criteria = sut.get("criteria")
    if criteria is not None and (
        not isinstance(criteria, list) or not all(isinstance(c, str) for c in criteria)
    ):
        msg = "Input should be a valid list of strings"
        errors.add(["sut", "criteria"], "list_type", msg, criteria)


def _check_pause(pause: Any, errors: _Errors, options: StartOptions) -> None:
    """``step_pause_time``: an integer number of seconds >= 0 (doc)."""
    if pause is None:
        return
    if isinstance(pause, float) and not isinstance(pause, bool) and not pause.is_integer():
        msg = "Input should be a valid integer, got a number with a fractional part"
        errors.add(["step_pause_time"], "int_from_float", msg, pause)
    elif isinstance(pause, bool) or not isinstance(pause, (int, float)):
        errors.add(["step_pause_time"], "int_type", "Input should be a valid integer", pause)
    elif pause < 0:
        msg = "Input should be greater than or equal to 0"
        errors.add(["step_pause_time"], "greater_than_equal", msg, pause)
    else:
        options.step_pause_time = float(pause)


def _check_script(script: Any, errors: _Errors, options: StartOptions) -> None:
    """``script``: a non-blank string, or null."""
    if script is None:
        return
    if isinstance(script, str) and script.strip():
        options.script = script
    else:
        errors.string(["script"], script)


def _check_asset(asset: Any, errors: _Errors) -> None:
    """``asset``: null, or an object whose ``asset_version_id`` and ``asset_path`` are
    strings."""
    if asset is None:
        return
    if not isinstance(asset, dict):
        errors.not_an_object(["asset"], asset)
        return
    for key in ("asset_version_id", "asset_path"):
        if key in asset and not isinstance(asset[key], str):
            errors.string(["asset", key], asset[key])
