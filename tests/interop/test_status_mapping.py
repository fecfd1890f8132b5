"""Every review status maps to a Task.status and a DetectedIssue.status, as docs/fhir.md says,
and each resource built from it validates against R4."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.detectedissue import DetectedIssue
from fhir.resources.R4B.task import Task

from app.flags.workflow import Status
from app.interop.detected_issue import detected_issue
from app.interop.task import TASK_STATUS, task
from tests.interop.arrange import unsaved_flag

BASE_URL = "https://valueloop.example.org"

EXPECTED = {
    Status.SUBMITTED: ("requested", "final"),
    Status.TRIAGED: ("received", "final"),
    Status.ACCEPTED: ("accepted", "final"),
    Status.ACTION_TAKEN: ("in-progress", "final"),
    Status.NEEDS_INFO: ("on-hold", "final"),
    Status.CLOSED: ("completed", "final"),
    Status.NOT_LOW_VALUE: ("rejected", "cancelled"),
    Status.DUPLICATE: ("cancelled", "cancelled"),
}


def test_the_table_covers_every_status_of_the_workflow():
    assert set(EXPECTED) == set(Status)
    assert set(TASK_STATUS) == set(Status)


@pytest.mark.parametrize("status", list(Status))
def test_each_status_maps_to_a_task_status_and_an_issue_status(status):
    flag = unsaved_flag(status)

    built_task: Any = task(BASE_URL, flag, {})
    built_issue: Any = detected_issue(BASE_URL, flag, [])

    assert (built_task.status, built_issue.status) == EXPECTED[status]
    assert built_task.businessStatus.coding[0].code == status.value
    # What is served is what is parsed back: both validate as R4 resources.
    Task.model_validate_json(built_task.model_dump_json(by_alias=True, exclude_none=True))
    DetectedIssue.model_validate_json(built_issue.model_dump_json(by_alias=True, exclude_none=True))


def test_a_task_waiting_on_the_reporter_says_so():
    built: Any = task(BASE_URL, unsaved_flag(Status.NEEDS_INFO), {})

    assert built.statusReason.text == "Waiting for the reporter's answer"


def test_codes_hang_off_the_configured_base_url():
    built: Any = detected_issue(BASE_URL, unsaved_flag(), [])

    assert built.code.coding[0].system == (
        "https://valueloop.example.org/fhir/CodeSystem/valueloop-flag-reason"
    )
    assert built.identifier[0].system == "https://valueloop.example.org/fhir/sid/flag"
