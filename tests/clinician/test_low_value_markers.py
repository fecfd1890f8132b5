"""The low-value rules on the in-EHR page: the orders a rule judges low-value carry a marker
in the context, the others nothing; history is read from the EHR only when a rule asks; a
failed history read leaves its rule silent; a flag records whether a rule agreed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from app.ehrs import service as ehrs
from app.ehrs.secrets import secret_box
from app.launch.models import AppSession
from tests.clinician.test_clinician_api import fhir_reads, flag_body, header
from tests.low_value_chart import Chart, add_low_value_chart
from tests.sim_ehr import full_launch

CONTEXT = "/api/v1/clinician/context"


async def launch_on(client, ehr_http, sim, chart: Chart) -> str:
    return await full_launch(
        client, ehr_http, sim, patient=chart.patient, encounter=chart.encounter
    )


def by_id(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {order["fhir_id"]: order for order in body["orders"]}


async def test_an_order_a_rule_judges_low_value_carries_its_marker(client, ehr, ehr_http):
    chart = add_low_value_chart(ehr.sim)
    handle = await launch_on(client, ehr_http, ehr.sim, chart)

    response = await client.get(CONTEXT, headers=header(handle))

    assert response.status_code == 200, response.text
    [marker] = by_id(response.json())[chart.psa]["low_value"]
    assert marker["rule_id"] == "psa-screening-older-men"
    assert marker["label"] == "PSA screening in older men"
    assert "screening no longer helps" in marker["reason"]
    assert marker["source_url"].startswith("https://")
    assert marker["source_title"]
    assert marker["flag_reason"] == "not_indicated"


async def test_an_order_no_rule_judges_carries_nothing_extra(client, ehr, ehr_http):
    chart = add_low_value_chart(ehr.sim)
    handle = await launch_on(client, ehr_http, ehr.sim, chart)

    body = (await client.get(CONTEXT, headers=header(handle))).json()

    assert "low_value" not in by_id(body)[chart.lipids]


async def test_a_rule_that_needs_history_reads_it_from_the_ehr_and_marks_the_order(
    client, app, ehr, ehr_http
):
    chart = add_low_value_chart(ehr.sim)
    handle = await launch_on(client, ehr_http, ehr.sim, chart)

    with fhir_reads(app) as paths:
        body = (await client.get(CONTEXT, headers=header(handle))).json()

    [marker] = by_id(body)[chart.dxa]["low_value"]
    assert marker["rule_id"] == "dxa-repeat-within-two-years"
    assert marker["flag_reason"] == "repeat_duplicate"
    assert "Procedure" in paths  # the prior scan, searched on the EHR


async def test_no_history_is_read_when_no_rule_asks_for_it(client, app, ehr, ehr_http):
    handle = await full_launch(client, ehr_http, ehr.sim)  # the sim's first chart: none asks

    with fhir_reads(app) as paths:
        body = (await client.get(CONTEXT, headers=header(handle))).json()

    assert body["orders"]
    assert not {"Procedure", "Observation"} & set(paths)
    assert all("low_value" not in order for order in body["orders"])


async def test_a_failed_history_read_leaves_its_rule_silent_and_the_page_loads(
    client, ehr, ehr_http, session, settings, caplog
):
    # An EHR that grants no Procedure access: the history search for the prior scan is refused.
    await ehrs.register(
        session,
        issuer=ehr.iss,
        client_id="vl-public",
        client_auth=ehrs.ClientAuthKind.NONE,
        box=secret_box(settings),
        scopes=[
            "launch",
            "openid",
            "fhirUser",
            *(
                f"patient/{kind}.rs"
                for kind in ("Patient", "Encounter", "ServiceRequest", "MedicationRequest")
            ),
            "patient/Condition.rs",
        ],
    )
    await session.commit()
    chart = add_low_value_chart(ehr.sim)
    handle = await launch_on(client, ehr_http, ehr.sim, chart)

    with caplog.at_level(logging.WARNING, logger="app.clinician.markers"):
        response = await client.get(CONTEXT, headers=header(handle))

    assert response.status_code == 200, response.text
    orders = by_id(response.json())
    assert "low_value" not in orders[chart.dxa]
    assert [m["rule_id"] for m in orders[chart.psa]["low_value"]] == ["psa-screening-older-men"]
    [record] = [r for r in caplog.records if r.name == "app.clinician.markers"]
    logged = record.getMessage()
    assert "FhirForbiddenError" in logged
    assert chart.patient not in logged
    assert handle not in logged


async def test_a_flag_on_a_marked_order_records_the_rule_that_agreed(client, ehr, ehr_http, tokens):
    chart = add_low_value_chart(ehr.sim)
    handle = await launch_on(client, ehr_http, ehr.sim, chart)
    psa = by_id((await client.get(CONTEXT, headers=header(handle))).json())[chart.psa]

    created = await client.post(
        "/api/v1/clinician/flags", json=flag_body(psa), headers=header(handle)
    )

    assert created.status_code == 201, created.text
    flag_id = created.json()["flag_id"]
    detail = (await client.get(f"/api/v1/flags/{flag_id}", headers=tokens.header("analyst"))).json()
    [agreed] = detail["rule_agreement"]
    assert (agreed["rule_id"], agreed["title"]) == (
        "psa-screening-older-men",
        "PSA screening in older men",
    )
    assert agreed["rule_version"]
    assert agreed["source_url"] == psa["low_value"][0]["source_url"]


async def test_a_flag_on_an_order_no_rule_judged_records_that_none_agreed(
    client, ehr, ehr_http, tokens
):
    chart = add_low_value_chart(ehr.sim)
    handle = await launch_on(client, ehr_http, ehr.sim, chart)
    lipids = by_id((await client.get(CONTEXT, headers=header(handle))).json())[chart.lipids]

    created = await client.post(
        "/api/v1/clinician/flags", json=flag_body(lipids), headers=header(handle)
    )

    flag_id = created.json()["flag_id"]
    detail = (await client.get(f"/api/v1/flags/{flag_id}", headers=tokens.header("analyst"))).json()
    assert detail["rule_agreement"] == []


async def test_a_client_cannot_say_a_rule_agreed(client, ehr, ehr_http):
    chart = add_low_value_chart(ehr.sim)
    handle = await launch_on(client, ehr_http, ehr.sim, chart)
    lipids = by_id((await client.get(CONTEXT, headers=header(handle))).json())[chart.lipids]
    claim = [{"rule_id": "psa-screening-older-men", "rule_version": "1", "title": "PSA"}]

    response = await client.post(
        "/api/v1/clinician/flags",
        json=flag_body(lipids, rule_agreement=claim),
        headers=header(handle),
    )

    assert response.status_code == 422


async def test_a_flag_without_a_context_read_records_that_no_rule_was_run(
    client, ehr, ehr_http, session, tokens
):
    chart = add_low_value_chart(ehr.sim)
    handle = await launch_on(client, ehr_http, ehr.sim, chart)
    psa = by_id((await client.get(CONTEXT, headers=header(handle))).json())[chart.psa]
    # A session from before the rules ran on the page (or a page that never read its context).
    await session.execute(sa.update(AppSession).values(flag_context=None))
    await session.commit()

    created = await client.post(
        "/api/v1/clinician/flags", json=flag_body(psa), headers=header(handle)
    )

    assert created.status_code == 201, created.text
    flag_id = created.json()["flag_id"]
    detail = (await client.get(f"/api/v1/flags/{flag_id}", headers=tokens.header("analyst"))).json()
    assert detail["rule_agreement"] is None


async def test_the_launching_organizations_variant_decides_the_marker(
    client, ehr, ehr_http, session
):
    from app.ehrs import service as ehrs
    from app.organizations import service as organizations

    chart = add_low_value_chart(ehr.sim)
    today = datetime.now(UTC).date()
    patient = ehr.sim.state.store.get("Patient", chart.patient)
    assert patient is not None
    # 72: low-value under the PSA measure's sensitive variant (70+), not its default (75+).
    patient["birthDate"] = today.replace(year=today.year - 72, day=1).isoformat()
    default = by_id(
        (
            await client.get(
                CONTEXT, headers=header(await launch_on(client, ehr_http, ehr.sim, chart))
            )
        ).json()
    )
    practice = await organizations.add(session, "practice", name="Riverside Family Practice")
    await organizations.choose_variants(
        session, "practice", {"psa-screening-older-men": "sensitive"}
    )
    (await ehrs.trusted(session, ehr.sim.fhir_base)).organization_id = practice.id
    await session.commit()

    chosen = by_id(
        (
            await client.get(
                CONTEXT, headers=header(await launch_on(client, ehr_http, ehr.sim, chart))
            )
        ).json()
    )

    assert not default[chart.psa].get("low_value")
    assert [m["rule_id"] for m in chosen[chart.psa]["low_value"]] == ["psa-screening-older-men"]
