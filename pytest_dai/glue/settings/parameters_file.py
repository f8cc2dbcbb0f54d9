"""``dai_parameters_file``: a JSON file of global parameter overrides for test configurations,
read when the setting is resolved (a bad file stops the session at once) and again when each
configuration starts."""

from __future__ import annotations

import json

from pytest_dai.client.errors import DAIConfigError

#: The values a parameter override may have.
SCALARS = (str, int, float, bool)


def read_parameters_file(path: str, label: str) -> dict[str, object]:
    """The global parameter overrides of ``dai_parameters_file``: a JSON object of name to
    value, or a list of ``{"name", "value"}`` (also under ``"parameters"``). Raises
    :class:`DAIConfigError` naming the setting and the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise DAIConfigError(f"{label} {path}: cannot read the file ({exc.strerror})") from None
    except ValueError as exc:
        raise DAIConfigError(f"{label} {path}: not valid JSON ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("parameters"), list):
        data = data["parameters"]
    if isinstance(data, list) and all(
        isinstance(p, dict) and isinstance(p.get("name"), str) and "value" in p for p in data
    ):
        data = {p["name"]: p["value"] for p in data}
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, SCALARS) for k, v in data.items()
    ):
        raise DAIConfigError(
            f"{label} {path}: expected a JSON object of parameter name to a string, number or "
            'boolean, or a list of {"name": ..., "value": ...}'
        )
    return dict(data)
