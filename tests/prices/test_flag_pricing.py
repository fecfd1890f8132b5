"""A flag made in the EHR is estimated at the organization's price in effect on the order's
date, and keeps that price's source and year on the flag page's API and in exports."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from app.prices import service
from tests.clinician.test_clinician_api import flag_body, header
from tests.sim_ehr import full_launch

HEADER = "code system,code,price,currency,source,effective date\n"


def coding_and_day(sim, order: dict[str, str]) -> tuple[str, str, date] | None:
    """The order's first coding and the day it was written, as the EHR has them (if any)."""
    resource = next(
        r for r in sim.state.store.all(order["resource_type"]) if r["id"] == order["fhir_id"]
    )
    concept = resource.get("code") or resource.get("medicationCodeableConcept") or {}
    codings = [c for c in concept.get("coding", []) if c.get("system") and c.get("code")]
    authored = resource.get("authoredOn", "")
    if not codings or len(authored) < 10:
        return None
    return codings[0]["system"], codings[0]["code"], date.fromisoformat(authored[:10])


async def test_a_new_flag_takes_the_price_in_effect_on_its_order_date(
    client, ehr, ehr_http, tokens, session
):
    handle = await full_launch(client, ehr_http, ehr.sim)
    context = await client.get("/api/v1/clinician/context", headers=header(handle))
    order, (system, code, ordered) = next(
        (order, found)
        for order in context.json()["orders"]
        if (found := coding_and_day(ehr.sim, order)) is not None
    )
    await service.load(
        session,
        HEADER
        + f"{system},{code},123.45,USD,Riverside chargemaster,{ordered - timedelta(days=30)}\n"
        + f"{system},{code},999.00,USD,Next year's chargemaster,{ordered + timedelta(days=1)}\n",
        loaded_by="tests",
    )
    await session.commit()

    created = await client.post(
        "/api/v1/clinician/flags", json=flag_body(order), headers=header(handle)
    )

    assert created.status_code == 201, created.text
    flag_id = created.json()["flag_id"]
    detail = await client.get(f"/api/v1/flags/{flag_id}", headers=tokens.header("analyst"))
    cost = detail.json()["estimated_cost"]
    year = (ordered - timedelta(days=30)).year
    assert (cost["amount"], cost["source"], cost["year"]) == (
        "123.45",
        "Riverside chargemaster",
        year,
    )
    export = await client.get("/api/v1/exports/flags", headers=tokens.header("analyst"))
    (row,) = [r for r in csv.DictReader(io.StringIO(export.text)) if r["id"] == flag_id]
    assert (row["estimated_cost"], row["cost_source"], row["cost_year"]) == (
        "123.45",
        "Riverside chargemaster",
        str(year),
    )
