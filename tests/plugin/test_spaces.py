"""Test configurations found within a space (``space=`` on the marker, ``dai_space``), the
``dai_api_version`` setting, DAI 7.4's missing test-config results, and a server that refuses
the previous task instance of a re-run: plugin sessions against the simulator (contract 2.7)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from harness.env import point_env_at

from pytest_dai.simulator import DAISimulator

from .conftest import FAST, SCENARIO

TASKS = "/task_scheduler_service/api/v1/task_instances/"


def _scenario() -> dict[str, Any]:
    data = dict(SCENARIO)
    data["test_configs"] = [
        {
            "id": "tc-shared",
            "name": "Nightly",
            "space": "Shared space",
            "runs": [{"model": "Pass"}],
        },
        {"id": "tc-qa", "name": "Nightly", "space": "QA", "runs": [{"model": "Pass"}]},
        {
            "id": "tc-old",
            "name": "Old runner",
            "runs": [{"model": "Pass"}, {"model": "Fail"}],
            "accepts_previous": False,
        },
    ]
    return data


@pytest.fixture
def ssim(monkeypatch: pytest.MonkeyPatch) -> Iterator[DAISimulator]:
    """A simulator whose configs share a name across two spaces; the environment points at
    it."""
    with DAISimulator(_scenario(), port=0) as simulator:
        point_env_at(monkeypatch, simulator)
        yield simulator


def config_test(config: str, **marker: object) -> str:
    extra = "".join(f", {key}={value!r}" for key, value in marker.items())
    return f"""
        import pytest

        @pytest.mark.dai_test_config({config!r}{extra})
        def test_config():
            pass
        """


def started(sim: DAISimulator) -> list[str]:
    return [r.path[len(TASKS) :] for r in sim.request_log() if r.path.startswith(TASKS)]


def test_a_name_in_two_spaces_asks_for_one_and_starts_nothing(
    pytester: pytest.Pytester, ssim: DAISimulator
) -> None:
    pytester.makepyfile(config_test("Nightly"))
    result = pytester.runpytest_subprocess(*FAST)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*test configuration name 'Nightly' is in 2 spaces ('QA', 'Shared space')*"]
    )
    assert started(ssim) == []


def test_the_marker_space_wins_over_dai_space(
    pytester: pytest.Pytester, ssim: DAISimulator
) -> None:
    pytester.makepyfile(
        test_a=config_test("Nightly", space="QA"), test_b=config_test("Nightly", space="qa")
    )
    pytester.makefile(".ini", pytest="[pytest]\ndai_space = Shared space\n")
    pytester.makepyfile(test_c=config_test("Nightly"))
    result = pytester.runpytest_subprocess(*FAST, "-p", "no:randomly")
    result.assert_outcomes(passed=3)
    assert sorted(started(ssim)) == ["tc-qa", "tc-qa", "tc-shared"]


def test_dai_space_on_the_command_line_and_the_dry_run_names_the_space(
    pytester: pytest.Pytester, ssim: DAISimulator
) -> None:
    pytester.makepyfile(config_test("Nightly"))
    result = pytester.runpytest_subprocess(*FAST, "--dai-space=QA", "--dai-dry-run")
    result.stdout.fnmatch_lines(["*would start test configuration 'Nightly' (space 'QA')*"])
    assert started(ssim) == []


@pytest.mark.parametrize(
    ("args", "env", "where"),
    [
        (["--dai-api-version=v3"], {}, "--dai-api-version from the command line"),
        ([], {"DAI_API_VERSION": "latest"}, "DAI_API_VERSION from the environment"),
    ],
)
def test_a_bad_dai_api_version_is_one_line(
    pytester: pytest.Pytester,
    ssim: DAISimulator,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    where: str,
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    pytester.makepyfile(config_test("tc-qa"))
    result = pytester.runpytest_subprocess(*FAST, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{where}: expected auto, v1 or v2, got *"])
    assert started(ssim) == []


def test_a_config_on_dai74_is_one_line_and_the_session_says_v1(
    pytester: pytest.Pytester, ssim: DAISimulator
) -> None:
    ssim.dialect = "dai74"
    pytester.makepyfile(config_test("tc-qa"))
    result = pytester.runpytest_subprocess(*FAST, "--dai-auth=v2", "-rA")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "dai: public API /api/v1 for this session" in out
    assert "a test configuration needs DAI 7.5 or later" in out
    assert started(ssim) == []


def test_dai_api_version_v1_on_a_v2_server_refuses_configs_at_once(
    pytester: pytest.Pytester, ssim: DAISimulator
) -> None:
    pytester.makepyfile(config_test("tc-qa"))
    result = pytester.runpytest_subprocess(*FAST, "--dai-api-version=v1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*this session uses public API v1 (dai_api_version = v1)*"])
    assert started(ssim) == []


def test_a_server_refusing_the_previous_task_instance_is_one_line(
    pytester: pytest.Pytester, ssim: DAISimulator
) -> None:
    pytester.makepyfile(config_test("Old runner"))
    first = pytester.runpytest_subprocess(*FAST)
    assert first.ret == pytest.ExitCode.TESTS_FAILED
    second = pytester.runpytest_subprocess(*FAST, "--dai-rerun-failed")
    second.assert_outcomes(failed=1)
    second.stdout.fnmatch_lines(
        ["*422: this server does not accept step filters and a previous task instance*"]
    )
    bodies = [r.body for r in ssim.request_log() if r.path.startswith(TASKS)]
    assert len(bodies) == 2  # refused once, never sent again without it
    assert bodies[1] is not None
    assert "previous_task_instance_id" in bodies[1]
