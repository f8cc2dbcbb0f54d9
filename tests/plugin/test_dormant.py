"""A session that gives no DAI setting leaves pytest-dai dormant until its first DAI test.

Dormant: no settings resolved, no helper plugin registered, SIGTERM left alone (what a session
that does not use the plugin pays for it being installed). The first DAI test (marked, or using
a ``dai_*`` fixture, also one asked for by name) wakes it, with the behaviour of a session that
started it at once.
"""

from __future__ import annotations

import pytest

from pytest_dai.glue.settings.values import MISSING_SERVER_MESSAGE

pytestmark = pytest.mark.usefixtures("no_dai_env")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The inner pytest with no DAI option (the plugin tests' usual options give one)."""
    return pytester.runpytest("-p", "no:randomly", *args)


#: An inner conftest that tells, from inside the session, whether the plugin started.
PROBE = """
import signal

import pytest

from pytest_dai.glue.hooks.setup import STATE_KEY


def started(config):
    return STATE_KEY in config.stash


@pytest.fixture
def probe(request):
    return request.config


def pytest_sessionfinish(session):
    print(f"\\nstarted at the end: {started(session.config)}")
    helpers = [name for name in ("dai-markers", "dai-summary", "dai-interrupt", "dai-redaction")
               if session.config.pluginmanager.has_plugin(name)]
    print(f"helpers: {helpers}")
"""


def test_no_dai_setting_and_no_dai_test_leaves_the_plugin_dormant(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(PROBE)
    pytester.makepyfile(
        """
        import signal

        def test_plain(probe):
            from conftest import started
            assert not started(probe)
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        """
    )
    result = run(pytester, "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["started at the end: False", "helpers: []"])


def test_any_dai_setting_starts_the_plugin_at_once(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad value is a usage error before anything runs, even with no DAI test."""
    pytester.makepyfile("def test_plain():\n    pass\n")
    monkeypatch.setenv("DAI_CA_CERT", "/no/such/bundle.pem")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "DAI_CA_CERT" in result.stderr.str()


@pytest.mark.parametrize(
    "given",
    [("--dai-timeout", "60"), ("-o", "dai_timeout=60")],
    ids=["command line", "ini"],
)
def test_a_setting_on_the_command_line_or_in_the_ini_file_starts_it(
    pytester: pytest.Pytester, given: tuple[str, str]
) -> None:
    pytester.makeconftest(PROBE)
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = run(pytester, "-s", *given)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["started at the end: True", "helpers: [[]'dai-markers'*"])


@pytest.mark.parametrize(
    "test",
    [
        '@pytest.mark.dai_model("Pass")\ndef test_dai():\n    pass\n',
        "def test_dai(dai_session):\n    pass\n",
        'def test_dai(request):\n    request.getfixturevalue("dai_session")\n',
    ],
    ids=["marker", "fixture", "fixture by name"],
)
def test_the_first_dai_test_wakes_it(pytester: pytest.Pytester, test: str) -> None:
    """Woken, it behaves as if started at once: here, no server is configured."""
    pytester.makeconftest(PROBE)
    pytester.makepyfile(f"import pytest\n\n\ndef test_plain():\n    pass\n\n\n{test}")
    result = run(pytester, "-s")
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] == 1
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) == 1  # the call or the setup
    result.stdout.fnmatch_lines(["started at the end: True"])
    result.stdout.fnmatch_lines([f"DAIConfigError: {MISSING_SERVER_MESSAGE}"])


def test_the_header_says_no_server_without_starting_it(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(PROBE)
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = run(pytester, "-s")
    result.stdout.fnmatch_lines(
        ["dai: no server configured (give --dai-url or DAI_URL, or --dai-simulator)"]
    )
    result.stdout.fnmatch_lines(["started at the end: False"])
