"""The pages under ``docs/`` (and the other Markdown files the README links) stay true to what
they describe: every relative link names a file, and the simulator's reference names every
scenario key, fault, dialect key and dialect preset the simulator accepts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_dai.simulator.dialects import DIALECT_VALIDATORS, DIALECTS
from pytest_dai.simulator.faults import FAULT_VALIDATORS
from pytest_dai.simulator.scenario_parser import (
    _AGENT_KEYS,
    _MODEL_KEYS,
    _STEP_KEYS,
    _TOP_KEYS,
    TEST_CONFIG_KEYS,
)

ROOT = Path(__file__).resolve().parents[2]
PAGES = [
    ROOT / "README.md",
    ROOT / "CONTRIBUTING.md",
    ROOT / "tests" / "benchmarks" / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
]
SIMULATOR = ROOT / "docs" / "simulator.md"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_names_a_file(page: Path) -> None:
    links = re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", page.read_text("utf-8"))
    missing = [link for link in links if not (page.parent / link).exists()]
    assert missing == []


def test_the_readme_links_every_docs_page() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    for page in PAGES[1:]:
        if page.name not in ("transcript.md", "pypi.md"):  # pypi.md: the package's own page
            assert f"({page.relative_to(ROOT)})" in readme, page


def test_the_simulator_page_names_every_key_it_accepts() -> None:
    text = SIMULATOR.read_text("utf-8")
    keys = {
        "scenario": _TOP_KEYS,
        "agent": _AGENT_KEYS,
        "model": _MODEL_KEYS,
        "step": _STEP_KEYS,
        "test config": TEST_CONFIG_KEYS,
        "fault": tuple(FAULT_VALIDATORS),
        "dialect": tuple(DIALECT_VALIDATORS),
        "dialect preset": tuple(DIALECTS),
    }
    prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)  # the code blocks' own keys
    spans = set(re.findall(r"`([^`\n]+)`", prose))
    named = {word for span in spans for word in re.findall(r"[A-Za-z_0-9]+", span)}
    missing = [f"{kind} {key}" for kind, names in keys.items() for key in names if key not in named]
    assert missing == [], "docs/simulator.md does not name these; add them:"
