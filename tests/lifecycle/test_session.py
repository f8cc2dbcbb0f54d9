"""A :class:`DAISession` against the real simulator: name lookups with their one-line errors,
the dry run, runs tracked and aborted at the end, a run started elsewhere, and each start
journalled (an intent before it is sent, the run once it is known)."""

from __future__ import annotations

import pytest
from harness.simulators import eventually

from pytest_dai.client.errors import DAINotFoundError
from pytest_dai.lifecycle.journal import Journal
from pytest_dai.lifecycle.run_errors import DAIDryRun
from pytest_dai.lifecycle.session import DAISession
from pytest_dai.simulator import DAISimulator


def test_models_and_agents_are_found_by_id_or_name(session: DAISession) -> None:
    quick = session.resolve_model("Quick")
    assert quick.uuid == "m-quick"
    assert session.resolve_model("quick") == quick
    assert session.resolve_model(quick.id) == quick
    assert session.resolve_model("m-fail").name == "Failing"  # by the listing's modeluuid
    assert session.resolve_agent("agent two").id == "a2"
    assert session.resolve_agent("a1").name == "agent one"


def test_an_unknown_name_says_where_the_list_came_from(
    sim: DAISimulator, session: DAISession
) -> None:
    with pytest.raises(DAINotFoundError) as info:
        session.resolve_model("Qiuck")
    assert str(info.value) == (
        f"unknown model 'Qiuck': not among the models listed by GET {sim.url}/ai/models; "
        "close matches: 'Quick'"
    )
    with pytest.raises(DAINotFoundError) as info:
        session.resolve_agent("zzz")
    assert str(info.value) == (
        f"unknown agent 'zzz': not among the agents listed by GET {sim.url}/ai/agents; "
        "known agents: 'agent one', 'agent two'"
    )
    with pytest.raises(DAINotFoundError) as info:
        session.resolve_test_config("Nigthly")
    assert str(info.value) == (
        "unknown test configuration 'Nigthly': not among those listed by GET "
        f"{sim.url}/test_config_service/api/v1/test_configurations; close matches: 'Nightly'"
    )


def test_lists_are_asked_for_once_then_again_for_an_unknown_name(
    sim: DAISimulator, session: DAISession
) -> None:
    session.resolve_model("Quick")
    session.resolve_model("Failing")
    with pytest.raises(DAINotFoundError):
        session.resolve_model("Nope")
    listings = [r for r in sim.request_log() if r.path == "/ai/models"]
    assert len(listings) == 2  # the cached list, then one refresh for the unknown name


def test_a_dry_run_checks_names_and_starts_nothing(sim: DAISimulator, session: DAISession) -> None:
    session.dry_run = True
    with pytest.raises(DAIDryRun, match="would start model 'Quick' on agent 'agent one'"):
        session.start("quick", agent="a1")
    with pytest.raises(DAIDryRun, match="would start test configuration 'Nightly'"):
        session.start_test_config("Nightly")
    assert not [r for r in sim.request_log() if r.method == "POST" and "/auth/" not in r.path]
    assert session.started == []
    assert session.started_test_configs == []


def test_runs_still_going_are_aborted_at_the_end(sim: DAISimulator, session: DAISession) -> None:
    done = session.start("Quick", agent="a1").wait(timeout=30)
    going = session.start("Long", agent="a2")
    config = session.start_test_config("Nightly")
    assert session.started == [done, going]
    assert session.started_test_configs == [config]
    assert eventually(lambda: sim.running_count() == 2)
    aborted = session.close()
    assert aborted == [going, config]
    assert going.aborted
    assert config.aborted
    assert not done.aborted
    assert eventually(lambda: sim.running_count() == 0)
    assert session.abort_unfinished() == []  # once


def test_a_run_started_elsewhere_is_read_back(sim: DAISimulator, session: DAISession) -> None:
    started = session.client.start_execution("m-quick", agent_id="a1")
    assert eventually(lambda: (sim.execution(started.id) or {}).get("status") == "Passed")
    execution = session.execution(started.id)
    assert execution.model == "Quick"
    assert execution.agent == "agent one"
    assert execution.finished
    assert execution.passed
    assert execution not in session.started


@pytest.mark.parametrize("kind", ["model", "test_config"])
def test_each_start_is_journalled_before_it_is_sent(
    kind: str, session: DAISession, journal: Journal
) -> None:
    """While the start is on its way the journal holds its intent; once ``on_start`` has the
    run (and journals it), the intent is gone."""
    seen: list[tuple[list[str], list[str]]] = []

    def on_start(run: object) -> None:
        seen.append(([i.kind for i in journal.intents()], [i.model for i in journal.intents()]))

    session.on_start = on_start
    if kind == "model":
        session.start("Long", agent="a1")
    else:
        session.start_test_config("Nightly")
    name = "Long" if kind == "model" else "Nightly"
    assert seen == [([kind], [name])]
    assert journal.intents() == []
