"""A test configuration's global parameter overrides, with where each came from: the
``dai_parameters_file`` (every test configuration), then the marker's ``parameters=`` (which
wins for a name both give).

Users confirm them in two places: the dry run lists each (name, value, source), and the JUnit
property ``dai_parameters`` names them, names only (a value may be secret-ish, and JUnit files
travel further than a terminal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_dai.client.text import escape_control_chars
from pytest_dai.glue.settings.parameters_file import read_parameters_file

if TYPE_CHECKING:
    from pytest_dai.glue.markers.test_config import TestConfigSpec
    from pytest_dai.glue.process.state import DAIState

__all__ = ["PROPERTY", "Override", "names_property", "overrides", "overrides_text"]

#: The JUnit property that names the overridden parameters.
PROPERTY = "dai_parameters"
#: The most characters of one value the dry run shows.
VALUE_LIMIT = 60
#: Where an override came from when the marker gave it.
MARKER = "marker"


@dataclass(frozen=True)
class Override:
    """One parameter override: its name, value and source (``marker`` or
    ``dai_parameters_file <path>``)."""

    name: str
    value: object
    source: str

    def shown(self) -> str:
        """``name='value' (source)`` on one safe line, a long value cut."""
        value = repr(self.value)
        if len(value) > VALUE_LIMIT:
            value = value[: VALUE_LIMIT - 4] + "...'"
        return escape_control_chars(f"{self.name}={value} ({self.source})")


def overrides(state: DAIState, spec: TestConfigSpec) -> list[Override]:
    """The overrides the test's start sends: the parameters file's, then the marker's (the
    marker wins for a name both give, in the file's place)."""
    found: dict[str, Override] = {}
    path = state.settings.parameters_file
    if path:
        source = f"dai_parameters_file {path}"
        for name, value in read_parameters_file(path, "dai_parameters_file").items():
            found[name] = Override(name, value, source)
    for name, value in spec.parameters.items():
        found[name] = Override(name, value, MARKER)
    return list(found.values())


def overrides_text(found: list[Override]) -> str:
    """The dry run's list: ``parameter overrides: a='x' (marker), b=2 (dai_parameters_file
    p.json)``; "" when there are none."""
    if not found:
        return ""
    return "parameter overrides: " + ", ".join(override.shown() for override in found)


def names_property(found: list[Override]) -> str:
    """The value of :data:`PROPERTY`: the overridden names, comma-separated ("" for none)."""
    return ", ".join(escape_control_chars(override.name) for override in found)
