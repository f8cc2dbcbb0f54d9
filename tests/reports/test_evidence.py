"""Failure evidence against the simulator: the screenshot the failing action saw, saved under
``dai_artifacts``, named in JUnit (property and ``[[ATTACHMENT|...]]``) and in the summary;
screenshot faults give one warning line and the same outcome; one file per failed test under
pytest-xdist."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from harness.inner import FAST
from harness.scenarios import changed

from pytest_dai.simulator import DAISimulator

from .support import SCENARIO, properties, read_junit

MODULE = """
import pytest

@pytest.mark.dai_model("Passing", agent="a1")
def test_passed():
    pass

@pytest.mark.dai_model("Failing", agent="a2")
def test_failed():
    pass

@pytest.mark.dai_model("Erroring", agent="a3")
def test_errored():
    pass
"""

ATTACHMENT = re.compile(r"\[\[ATTACHMENT\|([^\]]+)\]\]")


def system_out(junit: Path, name: str) -> str:
    """Every ``<system-out>`` text of one testcase, joined."""
    for case in ET.parse(junit).getroot().iter("testcase"):
        if case.get("name") == name:
            return "\n".join(node.text or "" for node in case.iter("system-out"))
    raise AssertionError(f"no testcase {name}")


def test_failed_runs_keep_the_screenshot_the_failing_action_saw(
    pytester: pytest.Pytester, sim: DAISimulator, schema: Any
) -> None:
    pytester.makepyfile(test_evidence=MODULE)
    result = pytester.runpytest(
        "--junitxml=junit.xml", "--dai-artifacts=evidence", "--dai-junit-steps=steps.xml", *FAST
    )
    result.assert_outcomes(passed=1, failed=2)
    cases = read_junit(pytester.path / "junit.xml")
    folder = pytester.path / "evidence"
    saved = []
    for name in ("test_failed", "test_errored"):
        props = properties(cases[name])
        run = sim.execution(props["dai_execution_id"])
        assert run is not None
        shot = Path(props["dai_screenshot"])
        assert shot.is_absolute(), shot
        assert shot.parent == folder, shot
        assert name in shot.name, shot.name
        assert f"run-{run['run_id']}" in shot.name, shot.name
        wanted = sim.failing_screenshot(props["dai_execution_id"])
        assert wanted is not None
        image_id, png = wanted
        # The walk-back found the step's last capture before the failing entry, not the
        # step's first capture or another step's.
        assert image_id.endswith("-2-2"), image_id
        assert shot.read_bytes() == png
        attached = ATTACHMENT.findall(system_out(pytester.path / "junit.xml", name))
        log = shot.with_name(shot.name.replace(".png", ".log.txt"))
        assert attached == [str(shot), str(log)], attached
        assert ("Card declined" if name == "test_failed" else "SUT connection") in (log.read_text())
        assert re.fullmatch(r"[0-9a-f]{40}", props["dai_git_sha"]), props
        result.stdout.fnmatch_lines([f"*screenshot: {shot}"])
        saved.append(shot)
    assert saved[0].read_bytes() != saved[1].read_bytes()
    # The steps file: the run's suite names the screenshot, the failing step attaches it.
    schema.validate(str(pytester.path / "steps.xml"))
    by_test: dict[str, tuple[dict[str, str | None], ET.Element]] = {}
    for suite in ET.parse(pytester.path / "steps.xml").getroot().iter("testsuite"):
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        by_test[str(props["dai_test"]).split("::")[-1]] = (props, suite)
    for shot in saved:
        name = "test_failed" if "test_failed" in shot.name else "test_errored"
        props, suite = by_test[name]
        assert props["dai_screenshot"] == str(shot)
        attached = [
            case.get("name")
            for case in suite.iter("testcase")
            if f"[[ATTACHMENT|{shot}]]" in "".join(o.text or "" for o in case.iter("system-out"))
        ]
        assert len(attached) == 1, attached
        assert str(attached[0]).startswith("002 "), attached  # the step that failed
    assert "dai_screenshot" not in by_test["test_passed"][0]
    passed = properties(cases["test_passed"])
    assert "dai_screenshot" not in passed
    assert re.fullmatch(r"[0-9a-f]{40}", passed["dai_git_sha"]), passed
    assert not ATTACHMENT.findall(system_out(pytester.path / "junit.xml", "test_passed"))
    assert sorted(p.name for p in folder.iterdir() if "test_passed" in p.name) == []
    assert "no screenshot" not in result.stdout.str()


def test_a_passing_run_saves_nothing(pytester: pytest.Pytester, sim: DAISimulator) -> None:
    pytester.makepyfile(
        test_ok="""
        import pytest

        @pytest.mark.dai_model("Passing", agent="a1")
        def test_passed():
            pass
        """
    )
    result = pytester.runpytest("--junitxml=junit.xml", *FAST)
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "dai-artifacts").exists()
    assert not any(r.path.startswith("/api/v2/screenshots") for r in sim.request_log())


FAULT_MODULE = """
import pytest

@pytest.mark.dai_model("Passing", agent="a1")
def test_passed():
    pass

@pytest.mark.dai_model("Failing", agent="a2")
def test_failed():
    pass
"""


@pytest.mark.parametrize(
    "fault",
    # over 20 MB, and an answer later than the timeout: heavy and timing-bound, so slow
    [
        "404",
        pytest.param("large", marks=pytest.mark.slow),
        pytest.param("slow", marks=pytest.mark.slow),
    ],
)
def test_a_screenshot_that_cannot_be_had_is_one_warning_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    faults = {"screenshot_fault": fault, "screenshot_delay": 3}
    with DAISimulator(changed(SCENARIO, faults=faults), port=0) as simulator:
        monkeypatch.setenv("DAI_URL", simulator.url)
        monkeypatch.setenv("DAI_CLIENT_ID", simulator.client_id)
        monkeypatch.setenv("DAI_CLIENT_SECRET", simulator.client_secret)
        pytester.makepyfile(test_fault=FAULT_MODULE)
        result = pytester.runpytest(
            "--junitxml=junit.xml", "--dai-request-timeout=0.5", *FAST, "-rf"
        )
        # Recorded as answered (the slow answer comes after the inner session ended).
        asked = simulator.wait_for(
            lambda s: any(r.path.startswith("/api/v2/screenshots") for r in s.request_log()),
            timeout=10,
        )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["FAILED test_fault.py::test_failed - DAIRunFailed: DAI run of model 'Fail*"]
    )
    warnings = [line for line in result.stdout.lines if "no screenshot" in line]
    assert len(warnings) == 1, warnings
    reason = {"404": "404", "large": "larger than 20 MB", "slow": "no answer within"}[fault]
    assert reason in warnings[0], warnings
    assert "fetching a screenshot (GET " in warnings[0], warnings
    assert asked, "the screenshot was never asked for"
    cases = read_junit(pytester.path / "junit.xml")
    assert "dai_screenshot" not in properties(cases["test_failed"])
    assert cases["test_failed"].is_failure
    assert cases["test_passed"].is_passed
    pngs = list((pytester.path / "dai-artifacts").glob("*.png"))
    assert pngs == [], pngs


@pytest.mark.slow
def test_each_failed_test_has_its_own_file_under_xdist(
    pytester: pytest.Pytester, sim: DAISimulator
) -> None:
    module = "import pytest\n" + "".join(
        f'\n@pytest.mark.dai_model("Failing", agent="{agent}")\ndef test_failed_{agent}():\n'
        "    pass\n"
        for agent in ("a2", "a3", "a4", "a5")
    )
    pytester.makepyfile(test_many=module)
    result = pytester.runpytest_subprocess("-n", "2", "--junitxml=junit.xml", *FAST)
    result.assert_outcomes(failed=4)
    cases = read_junit(pytester.path / "junit.xml")
    shots = set()
    for agent in ("a2", "a3", "a4", "a5"):
        props = properties(cases[f"test_failed_{agent}"])
        wanted = sim.failing_screenshot(props["dai_execution_id"])
        assert wanted is not None
        shot = Path(props["dai_screenshot"])
        assert shot.read_bytes() == wanted[1]
        attached = ATTACHMENT.findall(
            system_out(pytester.path / "junit.xml", f"test_failed_{agent}")
        )
        assert str(shot) in attached, attached
        shots.add(shot)
        lines = [line for line in result.stdout.lines if line.strip() == f"screenshot: {shot}"]
        assert len(lines) == 1, result.stdout.str()
    assert len(shots) == 4
    assert len(list((pytester.path / "dai-artifacts").glob("*.png"))) == 4


def test_an_artifacts_path_that_is_a_file_is_one_clear_line(pytester: pytest.Pytester) -> None:
    pytester.path.joinpath("taken").write_text("a file")
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest("--dai-artifacts=taken")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --dai-artifacts from the command line: expected a folder, but */taken is a file*"]
    )


def test_a_run_aborted_at_its_deadline_keeps_the_screen_it_was_stuck_on(
    pytester: pytest.Pytester, sim: DAISimulator
) -> None:
    pytester.makepyfile(
        test_stuck="""
        import pytest

        @pytest.mark.dai_model("Long", agent="a5", timeout=0.4)
        def test_deadline():
            pass
        """
    )
    result = pytester.runpytest("--junitxml=junit.xml", *FAST)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*DAIRunTimeout*"])
    props = properties(read_junit(pytester.path / "junit.xml")["test_deadline"])
    shot = Path(props["dai_screenshot"])
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "test_deadline" in shot.name


ANY_KIND_MODULE = """
from pytest_dai.client.records import LogEntry
from pytest_dai.glue.hooks.start import plugin_state
from pytest_dai.glue.run.evidence import keep_evidence

PNG = b"\\x89PNG\\r\\n\\x1a\\n"

def log(image):
    return [LogEntry.parse({"message": "Search", "step_id": 1, "image_id": image}),
            LogEntry.parse({"message": "Button not found", "step_id": 1})]

def test_config_with_two_failed_results(request):
    plugin_state(request.config)  # (a marked test's run starts it)
    for result, image in (("tr-1", "a"), ("tr-2", "b")):
        keep_evidence(request.node, log(image), lambda image_id: PNG + image_id.encode(),
                      folder="evidence", run=result, failed=True)
    assert False, "two test results failed"
"""


def test_evidence_of_several_runs_of_one_test_adds_up(pytester: pytest.Pytester) -> None:
    """The evidence API takes a log and a way to fetch an image, so it serves any kind of run:
    here two failed test results of one test (as a test configuration has)."""
    pytester.makepyfile(test_any=ANY_KIND_MODULE)
    result = pytester.runpytest("--junitxml=junit.xml", "--html=report.html")
    result.assert_outcomes(failed=1)
    case = read_junit(pytester.path / "junit.xml")["test_config_with_two_failed_results"]
    from junitparser import Properties

    found = case.child(Properties)
    shots = [Path(p.value) for p in found if p.name == "dai_screenshot"]
    assert [shot.name for shot in shots] == [
        "test_any.py-test_config_with_two_failed_results-run-tr-1.png",
        "test_any.py-test_config_with_two_failed_results-run-tr-2.png",
    ]
    assert [shot.read_bytes()[-1:] for shot in shots] == [b"a", b"b"]
    attached = ATTACHMENT.findall(
        system_out(pytester.path / "junit.xml", "test_config_with_two_failed_results")
    )
    assert sorted(Path(p).suffix for p in attached) == [".png", ".png", ".txt", ".txt"]
    report = (pytester.path / "report.html").read_text(encoding="utf-8")
    assert report.count("DAI screenshot (test_any.py-test_config") == 2


@pytest.mark.slow
def test_a_server_that_does_not_answer_screenshots_is_not_asked_again(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow E12 costs the first failed test its few seconds, not every failed test."""
    faults = {"screenshot_fault": "slow", "screenshot_delay": 1}
    with DAISimulator(changed(SCENARIO, faults=faults), port=0) as simulator:
        monkeypatch.setenv("DAI_URL", simulator.url)
        monkeypatch.setenv("DAI_CLIENT_ID", simulator.client_id)
        monkeypatch.setenv("DAI_CLIENT_SECRET", simulator.client_secret)
        pytester.makepyfile(
            test_two="""
            import pytest

            @pytest.mark.dai_model("Failing", agent="a2")
            def test_first():
                pass

            @pytest.mark.dai_model("Failing", agent="a3")
            def test_second():
                pass
            """
        )
        result = pytester.runpytest("--dai-request-timeout=0.5", *FAST)
        first_run = next(e for e in simulator.executions() if e["agent_id"] == "a2")["run_id"]
        # A request is recorded as it is answered: wait for the slow answers to the first test.
        simulator.wait_for(
            lambda s: any(r.path.startswith("/api/v2/screenshots") for r in s.request_log()),
            timeout=10,
        )
        time.sleep(1.5)
        asked = {
            r.path.split("/")[-1]
            for r in simulator.request_log()
            if r.path.startswith("/api/v2/screenshots")
        }
    result.assert_outcomes(failed=2)
    warnings = [line.strip() for line in result.stdout.lines if "no screenshot" in line]
    assert len(warnings) == 2, warnings
    assert "gave no answer within" in warnings[0]
    assert "not asked for again after test_two.py::test_first" in warnings[1], warnings
    # Only the first test's image was asked for, never the second run's.
    assert asked
    assert all(image.startswith(f"scr-{first_run}-") for image in asked), asked
