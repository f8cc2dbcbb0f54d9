"""Inner test modules of marked tests, for either kind of run: ``dai_model`` (a model run) or
``dai_test_config`` (a test configuration), so that a test can run the same scenario for both
kinds from one text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The marker of each kind of run, and the fixture that hands the test its finished run.
MARKERS = {"model": "dai_model", "config": "dai_test_config"}
FIXTURES = {"model": "dai_execution", "config": "dai_result"}


@dataclass(frozen=True)
class Target:
    """What a marker runs: a model (with its marker's ``agent=``...) or a configuration."""

    kind: str
    name: str
    marker: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in MARKERS:
            raise ValueError(f"kind: expected one of {sorted(MARKERS)}, got {self.kind!r}")

    def decorator(self, **more: Any) -> str:
        """``@pytest.mark.dai_model('Pass', agent='agent-1')`` (``more``: other arguments)."""
        extra = "".join(f", {key}={value!r}" for key, value in {**self.marker, **more}.items())
        return f"@pytest.mark.{MARKERS[self.kind]}({self.name!r}{extra})"


def marked_tests(
    target: Target,
    count: int = 1,
    *,
    name: str = "test_run",
    fixture: str = "",
    body: str = "pass",
    **marker: Any,
) -> str:
    """A test module with ``count`` tests marked for ``target`` (``name``, or ``name_00`` ...
    with several), each taking ``fixture`` (none: "") and running ``body`` (one line)."""
    names = [name] if count == 1 else [f"{name}_{i:02d}" for i in range(count)]
    tests = "".join(
        f"\n{target.decorator(**marker)}\ndef {test}({fixture}):\n    {body}\n" for test in names
    )
    return "import pytest\n" + tests


#: The plugin tests' scenario's model for each outcome of a model run (``Slow`` outlasts the
#: deadline :data:`DEADLINE` gives it).
OUTCOME_MODELS = {"pass": "Pass", "fail": "Fail", "error": "Error", "deadline": "Slow"}
DEADLINE = 0.2


def runs_of_each_outcome(
    *outcomes: str, fixtures: dict[str, str] | None = None, bodies: dict[str, str] | None = None
) -> str:
    """A test module with a model-run test for each of ``outcomes`` (``test_pass`` marked
    ``dai_model("Pass", agent="agent-1")``, ``test_fail`` on ``agent-2``..., in that order);
    ``fixtures`` and ``bodies``: an outcome's test's fixtures and body (one line, or lines
    joined by a newline and four spaces)."""
    tests = []
    for number, outcome in enumerate(outcomes, 1):
        marker: dict[str, Any] = {"agent": f"agent-{number}"}
        if outcome == "deadline":
            marker["timeout"] = DEADLINE
        target = Target("model", OUTCOME_MODELS[outcome], marker)
        module = marked_tests(
            target,
            name=f"test_{outcome}",
            fixture=(fixtures or {}).get(outcome, ""),
            body=(bodies or {}).get(outcome, "pass"),
        )
        tests.append(module.removeprefix("import pytest\n"))
    return "import pytest\n" + "".join(tests)
