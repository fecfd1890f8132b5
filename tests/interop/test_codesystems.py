"""GET /fhir/CodeSystem/{id}: ValueLoop's vocabularies as R4 CodeSystems built from the catalog,
public (no patient data), complete with every code the API accepts; 404 for any other id."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pytest
from fhir.resources.R4B.codesystem import CodeSystem

from app.flags.catalog import REASON_DESCRIPTIONS, REASON_LABELS, Driver, Priority, Reason
from app.flags.models import EventKind
from app.flags.workflow import STATUS_LABELS, Status
from tests.factories import make_flag

BASE = "http://127.0.0.1:8000/fhir/CodeSystem"

PUBLISHED: dict[str, type[StrEnum]] = {
    "valueloop-flag-reason": Reason,
    "valueloop-flag-driver": Driver,
    "valueloop-flag-status": Status,
    "valueloop-flag-priority": Priority,
    "valueloop-flag-event": EventKind,
}


async def published(client, code_system_id: str) -> Any:
    response = await client.get(f"/fhir/CodeSystem/{code_system_id}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    return CodeSystem.model_validate_json(response.text)


@pytest.mark.parametrize(("code_system_id", "values"), PUBLISHED.items())
async def test_each_code_system_is_public_complete_and_lists_every_code_the_api_accepts(
    client, code_system_id, values
):
    found = await published(client, code_system_id)

    assert found.id == code_system_id
    assert found.url == f"{BASE}/{code_system_id}"
    assert (found.status, found.content, found.caseSensitive) == ("active", "complete", True)
    assert [concept.code for concept in found.concept] == [value.value for value in values]
    assert found.count == len(values)
    assert all(concept.display for concept in found.concept)


async def test_reasons_carry_the_catalogs_labels_and_descriptions(client):
    found = await published(client, "valueloop-flag-reason")

    assert {c.code: (c.display, c.definition) for c in found.concept} == {
        reason.value: (REASON_LABELS[reason], REASON_DESCRIPTIONS[reason]) for reason in Reason
    }


async def test_status_definitions_say_where_each_status_leads(client):
    found = await published(client, "valueloop-flag-status")

    closed = next(c for c in found.concept if c.code == "closed")
    assert closed.display == STATUS_LABELS[Status.CLOSED]
    assert "can move to: Triaged" in closed.definition
    assert "needs a reply to the reporter" in closed.definition


async def test_codings_in_exported_resources_name_a_published_code_system(
    client, tokens, session_factory
):
    flag = await make_flag(session_factory)
    text = (await client.get(f"/api/v1/flags/{flag.id}/fhir", headers=tokens.header("lead"))).text

    used = {part.split('"')[0] for part in text.split(f'"system":"{BASE}/')[1:]}
    assert used
    assert used <= set(PUBLISHED)


@pytest.mark.parametrize("unknown", ["valueloop-flag-colour", "ValueLoop-Flag-Reason", "x"])
async def test_an_unknown_code_system_is_a_404_problem(client, unknown):
    response = await client.get(f"/fhir/CodeSystem/{unknown}")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:valueloop:problem:code-system-not-found"
