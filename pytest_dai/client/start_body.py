"""The body of E1, ``POST /execution_service/api/v1/executions`` (contract 2.1).

Field names are the documented ones. At least one of ``model_id``, ``rerun_id`` or ``script``
is sent, and ``execution_type`` always. ``agent`` is sent as ``null`` when no agent is wanted:
on DAI that means the model's actions run on no agent (doc), so it is said explicitly rather
than left for a server default. ``step_pause_time`` is an integer number of seconds (doc).
Other fields are left out when not set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from pytest_dai.client.errors import DAIConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from typing_extensions import Unpack

__all__ = ["Asset", "StartParams", "build_start_body", "numeric_id"]


@dataclass(frozen=True)
class Asset:
    """Snippets to run with the model (``asset``): a version of an asset, and a path in it."""

    asset_version_id: str | None = None
    asset_path: str | None = None

    def to_json(self) -> dict[str, str]:
        """The ``asset`` object, without the parts not set."""
        body = {"asset_version_id": self.asset_version_id, "asset_path": self.asset_path}
        return {key: value for key, value in body.items() if value is not None}


def numeric_id(value: int | str) -> int | str:
    """Ids the contract shows as numbers (test case, rerun) go out as numbers when they are."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def _pause(value: float | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DAIConfigError(f"step_pause_time: expected a whole number of seconds, got {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise DAIConfigError(
            f"step_pause_time: expected a whole number of seconds (DAI takes an integer), "
            f"got {value!r}"
        )
    if value < 0:
        raise DAIConfigError(f"step_pause_time: expected a number of seconds >= 0, got {value!r}")
    return int(value)


class StartParams(TypedDict, total=False):
    """What a start may name besides the model (all optional; E1's fields, contract 2.1):
    the agent (none: ``agent: null``) and whether it is hosted, a test case, a SUT by id or
    by criteria, a run to re-run, a pause between steps (whole seconds), a script, and an
    :class:`Asset`."""

    agent_id: str | None
    is_hosted_agent: bool
    test_case_id: int | str | None
    sut_id: str | None
    sut_criteria: Sequence[str]
    rerun_id: int | str | None
    step_pause_time: float | None
    script: str | None
    asset: Asset | None


def build_start_body(model_id: str | None, **options: Unpack[StartParams]) -> dict[str, Any]:
    """The E1 body; :class:`DAIConfigError` when it could not start anything (TypeError for
    an option :class:`StartParams` does not have)."""
    unknown = sorted(set(options) - StartParams.__optional_keys__)
    if unknown:
        raise TypeError(f"unexpected start option(s): {', '.join(unknown)}")
    rerun_id, script = options.get("rerun_id"), options.get("script")
    if model_id is None and rerun_id is None and script is None:
        raise DAIConfigError(
            "a start needs a model, a run to re-run (rerun_id) or a script (contract 2.1)"
        )
    body: dict[str, Any] = {"execution_type": "executing"}
    if model_id is not None:
        body["model_id"] = model_id
    agent_id = options.get("agent_id")
    hosted = options.get("is_hosted_agent", False)
    body["agent"] = (
        {"agent_id": agent_id, "is_hosted_agent": hosted} if agent_id is not None else None
    )
    test_case_id = options.get("test_case_id")
    if test_case_id is not None:
        body["test_case_id"] = numeric_id(test_case_id)
    sut_id, sut_criteria = options.get("sut_id"), options.get("sut_criteria", ())
    if sut_id is not None or sut_criteria:
        sut: dict[str, Any] = {}
        if sut_id is not None:
            sut["sut_id"] = sut_id
        if sut_criteria:
            sut["criteria"] = list(sut_criteria)
        body["sut"] = sut
    if rerun_id is not None:
        body["rerun_id"] = numeric_id(rerun_id)
    pause = _pause(options.get("step_pause_time"))
    if pause is not None:
        body["step_pause_time"] = pause
    if script is not None:
        body["script"] = script
    asset = options.get("asset")
    if asset is not None:
        body["asset"] = asset.to_json()
    return body
