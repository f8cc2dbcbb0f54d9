"""Evidence of this session only: a session starts by removing the files earlier sessions of
pytest-dai wrote in ``dai_artifacts`` (as the folder's manifest lists them) and nothing else;
under pytest-xdist only the controller cleans, before the workers write."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from harness.inner import FAST

from pytest_dai.glue.report.artifacts import MANIFEST, clean_earlier, remember
from pytest_dai.simulator import DAISimulator

FAILING = """import pytest


@pytest.mark.dai_model("Failing", agent="a1")
def test_{name}():
    pass
"""
PASSING = """import pytest


@pytest.mark.dai_model("Passing", agent="a2")
def test_passing():
    pass
"""


def evidence(folder: Path) -> set[str]:
    """The files in the evidence folder, the manifest aside."""
    return {path.name for path in folder.iterdir() if path.name != MANIFEST}


def test_a_new_session_removes_only_what_earlier_sessions_wrote(
    pytester: pytest.Pytester, sim: DAISimulator
) -> None:
    folder = pytester.path / "dai-artifacts"
    pytester.makepyfile(test_first=FAILING.format(name="first"))
    pytester.runpytest(*FAST).assert_outcomes(failed=1)
    first = evidence(folder)
    assert {name.rsplit(".", 1)[-1] for name in first} == {"png", "txt"}, first
    (folder / "notes.md").write_text("mine", encoding="utf-8")
    (folder / "sub").mkdir()

    (pytester.path / "test_first.py").unlink()
    pytester.makepyfile(test_second=FAILING.format(name="second"))
    pytester.runpytest(*FAST).assert_outcomes(failed=1)
    second = evidence(folder)
    assert not first & second, "an earlier session's evidence was left beside this one's"
    assert {"notes.md", "sub"} <= second
    assert all("test_second" in name for name in second - {"notes.md", "sub"}), second

    (pytester.path / "test_second.py").unlink()
    pytester.makepyfile(test_passing=PASSING)
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    assert evidence(folder) == {"notes.md", "sub"}
    assert (folder / "notes.md").read_text(encoding="utf-8") == "mine"


def test_a_session_that_runs_no_test_leaves_the_last_sessions_evidence(
    pytester: pytest.Pytester, sim: DAISimulator
) -> None:
    folder = pytester.path / "dai-artifacts"
    pytester.makepyfile(test_first=FAILING.format(name="first"))
    pytester.runpytest(*FAST).assert_outcomes(failed=1)
    kept = evidence(folder)
    assert kept
    pytester.runpytest(*FAST, "--dai-dry-run").assert_outcomes(skipped=1)
    assert evidence(folder) == kept
    assert pytester.runpytest(*FAST, "--collect-only").ret == pytest.ExitCode.OK
    assert evidence(folder) == kept
    pytester.runpytest(*FAST, "--dai-list=models")
    assert evidence(folder) == kept


@pytest.mark.slow
def test_under_xdist_the_workers_never_remove_this_sessions_evidence(
    pytester: pytest.Pytester, sim: DAISimulator
) -> None:
    folder = pytester.path / "dai-artifacts"
    (folder).mkdir()
    (folder / "old-run.png").write_bytes(b"old")
    remember(str(folder / "old-run.png"))
    for index in range(4):
        pytester.makepyfile(**{f"test_{index}": FAILING.format(name=f"t{index}")})
    result = pytester.runpytest_subprocess(*FAST, "-n", "2", timeout=120)
    result.assert_outcomes(failed=4)
    found = evidence(folder)
    assert "old-run.png" not in found
    for index in range(4):
        assert any(f"test_t{index}-run-" in name and name.endswith(".png") for name in found), found
    listed = (folder / MANIFEST).read_text(encoding="utf-8").split()
    assert sorted(listed) == sorted(found)


def test_clean_earlier_touches_only_plain_listed_files_in_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "dai-artifacts"
    folder.mkdir()
    outside = tmp_path / "precious.txt"
    outside.write_text("keep", encoding="utf-8")
    (folder / "ours.png").write_bytes(b"x")
    (folder / "theirs.png").write_bytes(b"y")
    (folder / "adir").mkdir()
    os.symlink(outside, folder / "link.txt")
    names = ["ours.png", "../precious.txt", "adir", "link.txt", "", "missing.png", MANIFEST]
    (folder / MANIFEST).write_text("\n".join(names) + "\n", encoding="utf-8")
    assert clean_earlier(str(folder)) == ["ours.png"]
    assert sorted(os.listdir(folder)) == [MANIFEST, "adir", "link.txt", "theirs.png"]
    assert outside.read_text(encoding="utf-8") == "keep"
    assert (folder / MANIFEST).read_text(encoding="utf-8") == ""
    assert clean_earlier(str(tmp_path / "no-such-folder")) == []
