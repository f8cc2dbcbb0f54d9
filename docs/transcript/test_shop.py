"""The tests of docs/transcript.md."""

import pytest


def test_catalogue_loads():
    assert True


@pytest.mark.dai_model("Shop checkout", agent="agent-1", timeout=900)
def test_checkout():
    pass


@pytest.mark.dai_model("Payment declined", agent="agent-2")
def test_declined_card_shows_an_error():
    pass


@pytest.mark.dai_model("Long soak", agent="agent-3")
def test_long_soak():
    pass
