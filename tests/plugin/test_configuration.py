"""Configuration end to end: the report header, precedence at plugin level, no server, the
plugin switched off or unused, and ``--dai-simulator``."""

from __future__ import annotations

import pytest
from harness.simulators import closed_port_url

from pytest_dai.glue.settings.values import MISSING_SERVER_MESSAGE
from pytest_dai.simulator import DAISimulator

from .conftest import header, junit, marked_test, run

PLAIN_TEST = """
    def test_plain():
        assert True
    """


def test_header_shows_each_value_and_its_source_with_the_secret_masked(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makeini("[pytest]\ndai_realm = shop\n")
    pytester.makepyfile(PLAIN_TEST)
    result = pytester.runpytest("--dai-timeout=120", "-v")
    result.assert_outcomes(passed=1)

    text = header(result)
    assert f"url={dai_env.url} (env DAI_URL)" in text
    assert f"client_id={dai_env.client_id} (env DAI_CLIENT_ID)" in text
    assert "client_secret=*** (env DAI_CLIENT_SECRET)" in text
    assert "realm=shop (ini dai_realm)" in text
    assert (
        f"token_url={dai_env.url}/auth/realms/shop/protocol/openid-connect/token "
        "(derived from url and realm)"
    ) in text
    assert "timeout=120 (--dai-timeout)" in text
    assert "request_retries=5" in text.split("dai: defaults:")[1]
    assert dai_env.client_secret not in result.stdout.str() + result.stderr.str()


def test_header_is_two_lines_without_v(pytester: pytest.Pytester, dai_env: DAISimulator) -> None:
    pytester.makeini("[pytest]\ndai_realm = shop\n")
    pytester.makepyfile(PLAIN_TEST)
    result = pytester.runpytest("--dai-timeout=120")
    result.assert_outcomes(passed=1)

    lines = [line for line in result.outlines if line.startswith("dai: ")]
    assert lines == [
        f"dai: url={dai_env.url} (env DAI_URL), client_id={dai_env.client_id} "
        "(env DAI_CLIENT_ID), client_secret=*** (env DAI_CLIENT_SECRET)",
        "dai: realm=shop (ini dai_realm), timeout=120 (--dai-timeout)",
    ]
    assert dai_env.client_secret not in result.stdout.str()


@pytest.mark.slow
def test_marker_timeout_beats_dai_timeout_which_applies_otherwise(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.dai_model("Slow", agent="agent-1", timeout=1)
        def test_marker_timeout():
            pass

        @pytest.mark.dai_model("Slow", agent="agent-2")
        def test_option_timeout():
            pass
        """
    )
    run(pytester, "--dai-timeout=2").assert_outcomes(failed=2)

    cases = junit(pytester)
    assert "passed its deadline of 1 s" in cases["test_marker_timeout"].message
    assert "passed its deadline of 2 s" in cases["test_option_timeout"].message


def test_dai_url_option_beats_dai_url_variable(
    pytester: pytest.Pytester, dai_env: DAISimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAI_URL", closed_port_url())
    pytester.makepyfile(marked_test("Pass"))
    result = run(pytester, f"--dai-url={dai_env.url}", "--dai-request-retries=1")
    result.assert_outcomes(passed=1)
    assert f"url={dai_env.url} (--dai-url)" in header(result)


def test_no_server_configured_fails_marked_tests_with_one_line_and_runs_the_others(
    pytester: pytest.Pytester, no_dai_env: None
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.dai_model("Pass", agent="agent-1")
        def test_marked():
            pass

        def test_plain():
            pass
        """
    )
    result = run(pytester)

    cases = junit(pytester)
    assert cases["test_plain"].outcome == "passed"
    marked = cases["test_marked"]
    assert marked.outcome in ("failure", "error")
    assert marked.text.strip() == f"DAIConfigError: {MISSING_SERVER_MESSAGE}"
    assert "dai: no server configured" in header(result)


def test_plugin_switched_off_with_p_no_dai(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(PLAIN_TEST)
    result = pytester.runpytest("-p", "no:dai")
    result.assert_outcomes(passed=1)
    assert header(result) == ""
    assert not [line for line in result.outlines if line.startswith("plugins:") and "dai-" in line]

    unknown = pytester.runpytest("-p", "no:dai", "--dai-dry-run")
    assert unknown.ret == pytest.ExitCode.USAGE_ERROR


def test_plugin_installed_but_unused_stays_out_of_the_way(
    pytester: pytest.Pytester, no_dai_env: None
) -> None:
    pytester.makepyfile(PLAIN_TEST)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    assert result.stderr.str().strip() == ""
    assert "DAI model runs" not in result.stdout.str()
    assert "error" not in result.stdout.str().lower()


def test_dai_simulator_runs_a_marked_test_on_the_default_scenario(
    pytester: pytest.Pytester, no_dai_env: None
) -> None:
    # User login: the default scenario's shortest model (1.1 s)
    pytester.makepyfile(marked_test("User login", agent="agent-1"))
    result = run(pytester, "--dai-simulator")
    result.assert_outcomes(passed=1)

    case = junit(pytester)["test_run"]
    assert case.properties["dai_model"] == "User login"
    assert case.properties["dai_status"] == "Passed"
    assert "url=http://127.0.0.1:" in header(result)


@pytest.mark.parametrize("content", [None, "{not json"], ids=["missing", "invalid"])
def test_dai_simulator_with_a_bad_scenario_is_a_one_line_usage_error(
    pytester: pytest.Pytester, no_dai_env: None, content: str | None
) -> None:
    if content is not None:
        (pytester.path / "bad.json").write_text(content)
    pytester.makepyfile(marked_test("Shop checkout"))
    result = run(pytester, "--dai-simulator=bad.json")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1, errors
    assert errors[0].startswith("ERROR: --dai-simulator: ")
    assert "bad.json" in errors[0]


def test_reap_orphans_only_without_a_server_is_a_usage_error(
    pytester: pytest.Pytester, no_dai_env: None
) -> None:
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = pytester.runpytest("--dai-reap-orphans-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --dai-reap-orphans-only: no DAI server given (--dai-url, DAI_URL or dai_url)"]
    )


def test_steps_file_that_is_a_folder_is_refused_before_any_test_runs(
    pytester: pytest.Pytester, no_dai_env: None
) -> None:
    pytester.mkdir("reports")
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = pytester.runpytest("--dai-junit-steps=reports")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --dai-junit-steps from the command line: expected a file to write, but "
            "*reports is a folder, got 'reports'"
        ]
    )
    result.stdout.no_fnmatch_line("*test_plain*")


def test_help_works_even_with_a_bad_dai_setting_in_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAI_URL", "not-a-url")
    result = pytester.runpytest("--help")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*Eggplant DAI model runs*"])
