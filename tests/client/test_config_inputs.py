"""What a test configuration is started with (contract 2.6 and 2.7), with ``responses``: the
three forms of ``filter_by`` make one request, configs are found by name within a space, and a
re-run of failed steps names the previous task instance (a server refusing it: one line)."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import pytest
import responses

from pytest_dai.client.endpoints import DAIClient
from pytest_dai.client.errors import DAIConfigError, DAINotFoundError
from pytest_dai.client.test_config_records import TestConfig
from pytest_dai.client.test_configs import DAIBodyRefused, TestConfigAPI
from pytest_dai.glue.markers.step_filters import parse_filters
from pytest_dai.lifecycle.lookup import resolve_test_config

from .support import BASE, assert_dai_message, calls

TASKS = BASE + "/task_scheduler_service/api/v1/task_instances/"


class Refused(Exception):
    pass


def fail(text: str) -> NoReturn:
    raise Refused(text)


@pytest.fixture
def api(client: DAIClient) -> TestConfigAPI:
    return TestConfigAPI(client)


# -- filter_by: three forms, one request -------------------------------------------------------

FLAT = {
    "step_status_include": ["Failed", "Error"],
    "test_case_name_exclude": "login_user",
    "test_case_tag_include": "smoke, nightly",
    "scenario_tag": "checkout",
}
NESTED = {
    "step_status": {"include": "Failed,Error", "exclude": ""},
    "test_case_tag": {"include": ["smoke", "nightly"]},
    "test_case_name": {"exclude": "login_user"},
    "scenario_tag": "checkout",
}
TEXT = (
    "step_status_include=Failed,Error;;test_case_name_exclude=login_user;;"
    "test_case_tag_include=smoke,nightly;;scenario_tag=checkout"
)


@pytest.mark.parametrize("form", [FLAT, NESTED, TEXT, json.dumps(NESTED)])
def test_every_form_of_filter_by_makes_the_same_request(
    api: TestConfigAPI, rsps: responses.RequestsMock, form: object
) -> None:
    rsps.post(TASKS + "tc-1", status=201, json={"task_instance_id": "ti-1"})
    api.start("tc-1", filters=parse_filters(form, fail))
    (request,) = calls(rsps, "POST", TASKS + "tc-1")
    assert request.body is not None
    assert (
        request.body
        == json.dumps(
            {
                "filters": {
                    "scenario_tag": ["checkout"],
                    "step_status_include": ["Failed", "Error"],
                    "test_case_name_exclude": ["login_user"],
                    "test_case_tag_include": ["smoke", "nightly"],
                }
            }
        ).encode()
    )


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"step_status": {"include": "Failed", "only": "x"}}, "expected the keys include and"),
        ("step_status_include", "expected name=values between ';;'"),
        ("{not json", "filter_by: not valid JSON"),
        ({"step status": "Failed"}, "expected filter names such as"),
        ({"step_status_include": [1]}, "expected a string or a list of strings"),
        (["Failed"], "filter_by: expected a dict such as"),
    ],
)
def test_a_bad_filter_by_is_one_line(form: object, words: str) -> None:
    with pytest.raises(Refused) as info:
        parse_filters(form, fail)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


# -- spaces ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        {"space_name": "QA"},
        {"spaceName": "QA"},
        {"space": "QA"},
        {"space": {"id": 4, "name": "QA"}},
        {"spacename": "QA"},
    ],
)
def test_the_space_of_a_config_is_read_under_any_of_its_names(raw: dict[str, Any]) -> None:
    assert TestConfig.parse({"id": "tc-1", "name": "Nightly", **raw}).space == "QA"


CONFIGS = [
    TestConfig("tc-1", "Nightly", model="Shop", space="Shared space"),
    TestConfig("tc-2", "Nightly", model="Shop", space="QA"),
    TestConfig("tc-3", "Smoke", model="Shop", space="QA"),
]


def test_a_name_in_two_spaces_asks_for_one_naming_them() -> None:
    with pytest.raises(DAIConfigError) as info:
        resolve_test_config(CONFIGS, "Nightly")
    assert_dai_message(info.value, "'Nightly' is in 2 spaces", "'QA'", "'Shared space'", "space=")


def test_the_space_picks_the_config() -> None:
    assert resolve_test_config(CONFIGS, "Nightly", space="QA").id == "tc-2"
    assert resolve_test_config(CONFIGS, "nightly", space="shared SPACE").id == "tc-1"
    # A name in one space only needs none; an id needs none either.
    assert resolve_test_config(CONFIGS, "Smoke").id == "tc-3"
    assert resolve_test_config(CONFIGS, "tc-1", space="QA").id == "tc-1"


def test_a_name_not_in_the_space_is_not_found() -> None:
    with pytest.raises(DAINotFoundError) as info:
        resolve_test_config(CONFIGS, "Smoke", space="Shared space")
    assert_dai_message(info.value, "unknown test configuration 'Smoke' in space 'Shared space'")


def test_the_space_is_found_through_the_list(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    url = BASE + "/test_config_service/api/v1/test_configurations"
    listed = [
        {"id": "tc-1", "name": "Nightly", "space": {"name": "Shared space"}},
        {"id": "tc-2", "name": "Nightly", "spaceName": "QA"},
    ]
    rsps.get(url, json={"items": listed, "total_count": 2})
    assert resolve_test_config(api.list_test_configs(), "Nightly", space="QA").id == "tc-2"


# -- the previous task instance ----------------------------------------------------------------


def test_a_rerun_names_the_previous_task_instance(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    rsps.post(TASKS + "tc-1", status=201, json={"task_instance_id": "ti-2"})
    filters = {"step_status_include": ("Failed", "Error")}
    assert api.start("tc-1", filters=filters, previous_task_instance_id="ti-1") == "ti-2"
    (request,) = calls(rsps, "POST", TASKS + "tc-1")
    body = json.loads(request.body or b"{}")
    assert body == {
        "filters": {"step_status_include": ["Failed", "Error"]},
        "previous_task_instance_id": "ti-1",
    }


@pytest.mark.parametrize("status", [400, 422])
def test_a_server_refusing_the_previous_task_instance_is_one_line_never_retried(
    api: TestConfigAPI, rsps: responses.RequestsMock, status: int
) -> None:
    problem = {"detail": [{"loc": ["body", "previous_task_instance_id"], "msg": "extra"}]}
    rsps.post(TASKS + "tc-1", status=status, json=problem)
    with pytest.raises(DAIBodyRefused) as info:
        api.start("tc-1", previous_task_instance_id="ti-1")
    assert_dai_message(
        info.value,
        f"{status}: this server does not accept a previous task instance",
        "previous_task_instance_id",
    )
    assert len(calls(rsps, "POST", TASKS + "tc-1")) == 1


def test_a_server_that_names_no_spaces_is_not_asked_by_space() -> None:
    plain = [TestConfig("tc-1", "Nightly", model="Shop"), TestConfig("tc-2", "Smoke")]
    assert resolve_test_config(plain, "Nightly", space="Shared space").id == "tc-1"
