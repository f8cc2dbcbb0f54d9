"""An example DAI test configuration as a pytest test. Run it on the bundled simulator with:

pytest examples --dai-simulator --junitxml=report.xml
"""

from __future__ import annotations

import pytest

from pytest_dai import TestConfigResult


@pytest.mark.dai_test_config("Nightly shop", model="Shop checkout", timeout=900)
def test_nightly_shop(dai_result: TestConfigResult) -> None:
    """The test configuration's result is the test; each test case run is a subtest."""
    assert dai_result.passed
    assert [test.name for test in dai_result.test_results] == ["Shop checkout", "Valid password"]
