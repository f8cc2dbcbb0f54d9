"""docs/transcript.md is a real session (start, progress, a failure, Ctrl-C, summary) of the
tests and scenario beside it, and the README links it."""

from __future__ import annotations

import re
from pathlib import Path

from pytest_dai.simulator.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_the_readme_links_the_transcript() -> None:
    assert "(docs/transcript.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_transcript_tells_the_whole_story_in_order() -> None:
    text = (DOCS / "transcript.md").read_text(encoding="utf-8")
    for session in re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL):
        marks = [
            "test session starts",
            "dai: url=",
            "DAI run started: Shop checkout on agent-1: http://",
            "DAI run going: Shop checkout on agent-1: Running",
            "DAI run ended: Payment declined on agent-2: Failed",
            "dai: aborted run ",
            "FAILURES",
            "failed in step 3: Card was declined",
            "DAI model runs",
            "Long soak         agent-3  Aborted",
            "KeyboardInterrupt",
        ]
        found = [session.find(mark) for mark in marks]
        assert -1 not in found, [m for m, at in zip(marks, found, strict=True) if at == -1]
        assert "DAI run started: Long soak" in session
        assert "/work/" not in session
        assert "secret-" not in session


def test_the_transcripts_scenario_and_tests_are_the_ones_it_names() -> None:
    scenario = Scenario.load(DOCS / "transcript" / "scenario.json")
    models = {model.name for model in scenario.models}
    tests = (DOCS / "transcript" / "test_shop.py").read_text(encoding="utf-8")
    assert set(re.findall(r'dai_model\("([^"]+)"', tests)) == models
    assert "record.sh" in (DOCS / "transcript.md").read_text(encoding="utf-8")
