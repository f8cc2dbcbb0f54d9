"""``--dai-dry-run`` on the shipped examples: every check a run needs, nothing started, every DAI
test skipped with what it would do; a typo in a name fails fast, with the close matches."""

from __future__ import annotations

import shutil

import pytest
import xmlschema
from harness.simulators import starts

from pytest_dai.simulator import DAISimulator

from .support import EXAMPLES, read_junit, read_steps

TYPOS = """
import pytest

@pytest.mark.dai_model("Shop chekout", agent="agent-1")
def test_model_typo():
    pass

@pytest.mark.dai_model("Shop checkout", agent="agnet-2")
def test_agent_typo():
    pass
"""

#: The models the examples' DAI tests name (test_runs_by_hand starts one through dai_session).
EXAMPLE_MODELS = {"Shop checkout", "Search catalogue", "User login", "Payment declined"}


def test_dry_run_of_the_examples_starts_nothing_and_skips_every_dai_test(
    pytester: pytest.Pytester, default_sim: DAISimulator, schema: xmlschema.XMLSchema
) -> None:
    shutil.copytree(
        EXAMPLES, pytester.path / "examples", ignore=shutil.ignore_patterns("__pycache__")
    )
    (pytester.path / "examples" / "test_typos.py").write_text(TYPOS, encoding="utf-8")

    result = pytester.runpytest(
        "examples",
        "--dai-dry-run",
        "--junitxml=junit.xml",
        "--dai-junit-steps=steps.xml",
    )
    result.assert_outcomes(skipped=6, failed=2)

    assert starts(default_sim) == [], "a dry run sent a start request (E1)"
    assert default_sim.executions() == []
    cases = read_junit(pytester.path / "junit.xml")
    config_case = cases.pop("test_nightly_shop")  # the example test configuration
    assert config_case.is_skipped
    assert config_case.result[0].message.startswith("dry run: would start test configuration")
    example_cases = {name: case for name, case in cases.items() if "typo" not in name}
    assert len(example_cases) == 5
    named = set()
    for name, case in example_cases.items():
        assert case.is_skipped, name
        (skip,) = case.result
        assert skip.message.startswith("dry run: would start model '"), (name, skip.message)
        named |= {model for model in EXAMPLE_MODELS if f"model {model!r}" in skip.message}
    assert named == EXAMPLE_MODELS

    for name, wrong, right in (
        ("test_model_typo", "'Shop chekout'", "'Shop checkout'"),
        ("test_agent_typo", "'agnet-2'", "'agent-2'"),
    ):
        case = cases[name]
        assert case.is_failure, name
        (failure,) = case.result
        assert wrong in failure.message, failure.message
        assert "close matches" in failure.message, failure.message
        assert right in failure.message.split("close matches", 1)[1], failure.message
        assert case.time < 2.0, f"{name} took {case.time} s"

    assert read_steps(pytester.path / "steps.xml", schema) == {}
