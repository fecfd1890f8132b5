"""Filter choices: the departments and services flags actually carry, on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.factories import make_flag

CPT = "http://www.ama-assn.org/go/cpt"


def order(code: str | None, display: str, *, fhir_id: str = "sr-1") -> dict[str, Any]:
    return {
        "resource_type": "ServiceRequest",
        "fhir_id": fhir_id,
        "code": {"system": CPT if code else None, "code": code, "display": display},
        "status": "active",
    }


def encounter(department: str | None) -> dict[str, Any]:
    return {"fhir_id": "enc-1", "class_code": "AMB", "department": department}


async def test_filter_options_list_each_department_and_service_once(
    client, tokens, session_factory
):
    await make_flag(
        session_factory, encounter=encounter("Urgent Care"), order=order("72148", "MRI")
    )
    await make_flag(session_factory, encounter=encounter("Cardiology"), order=order("72148", "MRI"))
    await make_flag(
        session_factory, encounter=encounter("Urgent Care"), order=order("82306", "Vit D")
    )
    await make_flag(
        session_factory, encounter=encounter(None), order=order(None, "Free text order")
    )

    response = await client.get("/api/v1/filter-options", headers=tokens.header("lead"))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["departments"] == [
        {"value": "Cardiology", "label": "Cardiology"},
        {"value": "Urgent Care", "label": "Urgent Care"},
    ]
    assert body["services"] == [
        {"value": f"{CPT}|72148", "label": "MRI (72148)"},
        {"value": f"{CPT}|82306", "label": "Vit D (82306)"},
    ]


async def test_a_service_is_named_as_its_newest_flag_names_it(client, tokens, session_factory):
    await make_flag(session_factory, order=order("72148", "MRI L-spine (old name)"))
    await asyncio.sleep(0.01)  # created_at orders the two flags
    await make_flag(session_factory, order=order("72148", "MRI lumbar spine", fhir_id="sr-2"))

    response = await client.get("/api/v1/filter-options", headers=tokens.header("lead"))

    assert response.json()["services"] == [
        {"value": f"{CPT}|72148", "label": "MRI lumbar spine (72148)"}
    ]


async def test_filter_options_choices_filter_the_list_to_their_flags(
    client, tokens, session_factory
):
    await make_flag(
        session_factory, encounter=encounter("Urgent Care"), order=order("72148", "MRI")
    )
    await make_flag(
        session_factory, encounter=encounter("Cardiology"), order=order("82306", "Vit D")
    )
    options = (await client.get("/api/v1/filter-options", headers=tokens.header("lead"))).json()

    for choice in options["services"]:
        listed = await client.get(
            "/api/v1/flags", params={"order_code": choice["value"]}, headers=tokens.header("lead")
        )
        assert len(listed.json()["items"]) == 1, choice


async def test_filter_options_need_a_token(client):
    response = await client.get("/api/v1/filter-options")

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
