"""CDS Hooks order-sign/order-select with prefetch: a card for a low-value draft order, with
the measure, the exemptions checked, a suggestion to remove it, a link to ValueLoop and override
reasons; silence for an order no rule finds low-value; clear refusals of unusable calls."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from app.cds import service
from app.cds.cards import app_context_of, order_in_app_context
from app.cds.errors import UnknownService, UnusableHookRequest
from app.cds.schemas import HookRequest
from app.config import Settings
from app.organizations.models import DEFAULT_ORGANIZATION_ID
from tests.lowvalue.factories import (
    condition,
    encounter,
    medication_request,
    patient,
    service_request,
)

BASE = "https://valueloop.hospital.test"
EHR_ISS = "https://ehr.hospital.test"


def hook_request(
    order: dict[str, Any], *, hook: str = "order-sign", **prefetch: Any
) -> HookRequest:
    return HookRequest.model_validate(
        {
            "hook": hook,
            "hookInstance": str(uuid.uuid4()),
            "context": {
                "userId": "Practitioner/prac-1",
                "patientId": "p1",
                "encounterId": "enc1",
                "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": order}]},
            },
            "prefetch": {"patient": patient(age=58), "encounter": encounter(), **prefetch},
        }
    )


def conditions(*codes: str) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        # The services' prefetch: every condition of the patient.
        "link": [{"relation": "self", "url": "Condition?patient=p1"}],
        "entry": [{"resource": condition(code, id=f"c{n}")} for n, code in enumerate(codes)],
    }


async def cards(session_factory, settings, call: HookRequest, service_id: str) -> list[Any]:
    settings = settings.model_copy(update={"base_url": BASE})
    async with session_factory() as session, httpx.AsyncClient() as http:
        answer = await service.cards_for(
            service_id,
            call,
            session=session,
            http=http,
            settings=settings,
            client_iss=EHR_ISS,
            organization_id=DEFAULT_ORGANIZATION_ID,
        )
    return answer.cards


async def test_a_back_pain_mri_in_week_one_gets_one_warning_card_that_explains_itself(
    session_factory, settings
):
    call = hook_request(service_request("cpt", "72148"), conditions=conditions("M54.50"))

    [card] = await cards(session_factory, settings, call, "valueloop-order-sign")

    assert card.indicator == "warning"
    assert card.summary.startswith("ValueLoop: likely low-value care")
    assert len(card.summary) < 140
    assert card.source.topic is not None
    assert (card.source.topic.system, card.source.topic.code) == (
        "urn:valueloop:lowvalue-rule",
        "low-back-pain-imaging",
    )
    assert card.source.url
    assert card.source.url.startswith("https://")
    assert "Exemption checked" in (card.detail or "")
    [suggestion] = card.suggestions
    [action] = suggestion.actions
    assert (action.type, action.resourceId) == ("delete", ["ServiceRequest/sr1"])
    assert card.selectionBehavior == "at-most-one"
    [link] = card.links
    assert (link.type, link.url) == ("smart", f"{BASE}/launch")
    assert json.loads(link.appContext or "{}")["order"] == "ServiceRequest/sr1"
    assert {reason.code for reason in card.overrideReasons} >= {"exemption-not-recorded", "other"}


async def test_a_branded_drug_card_suggests_its_identical_generic(session_factory, settings):
    # Xanax 1 mg (RxNorm SBD 214003); its generic is alprazolam 1 mg (SCD 197321).
    call = hook_request(medication_request("rxnorm", "214003"), conditions=conditions())

    [card] = await cards(session_factory, settings, call, "valueloop-order-sign")

    assert card.source.topic is not None
    assert card.source.topic.code == "branded-drug-with-generic"
    [suggestion] = card.suggestions
    assert suggestion.label == "Order instead: alprazolam 1 MG Oral Tablet"
    [action] = suggestion.actions
    assert (action.type, action.resourceId) == ("delete", ["MedicationRequest/mr1"])
    assert "RxNorm 197321" in action.description


async def test_an_order_without_an_alternative_keeps_the_plain_remove_suggestion(
    session_factory, settings
):
    call = hook_request(service_request("cpt", "72148"), conditions=conditions("M54.50"))

    [card] = await cards(session_factory, settings, call, "valueloop-order-sign")

    assert [suggestion.label for suggestion in card.suggestions] == ["Remove this order"]


async def test_an_exempted_order_gets_no_card(session_factory, settings):
    # Back pain with a cancer history: imaging is not low-value.
    call = hook_request(service_request("cpt", "72148"), conditions=conditions("M54.50", "C50.911"))

    assert await cards(session_factory, settings, call, "valueloop-order-sign") == []


async def test_an_order_no_rule_is_about_gets_no_card(session_factory, settings):
    call = hook_request(service_request("cpt", "99213"), conditions=conditions("M54.50"))

    assert await cards(session_factory, settings, call, "valueloop-order-sign") == []


async def test_order_select_says_the_same_as_information(session_factory, settings):
    call = hook_request(
        service_request("cpt", "72148"), hook="order-select", conditions=conditions("M54.50")
    )

    [card] = await cards(session_factory, settings, call, "valueloop-order-select")

    assert card.indicator == "info"


async def test_a_rule_short_of_history_without_a_fhir_server_stays_silent(
    session_factory, settings
):
    # A pre-op chest X-ray needs to know of a booked surgery: not sent, not readable.
    call = hook_request(service_request("cpt", "71046"), conditions=conditions())

    assert await cards(session_factory, settings, call, "valueloop-order-sign") == []


async def test_unusable_calls_are_refused_with_what_is_wrong(session_factory, settings):
    call = hook_request(service_request("cpt", "72148"))
    with pytest.raises(UnknownService, match="GET /cds-services"):
        await cards(session_factory, settings, call, "nope")
    with pytest.raises(UnusableHookRequest, match="answers the order-select hook"):
        await cards(session_factory, settings, call, "valueloop-order-select")
    no_patient = call.model_copy(update={"prefetch": {}})
    with pytest.raises(UnusableHookRequest, match=r"prefetch\.patient is missing"):
        await cards(session_factory, settings, no_patient, "valueloop-order-sign")


def test_discovery_lists_both_services_with_prefetch_templates():
    services = {s.id: s for s in service.discovery().services}

    assert {s.hook for s in services.values()} == {"order-select", "order-sign"}
    prefetch = services["valueloop-order-sign"].prefetch
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    assert prefetch["conditions"] == "Condition?patient={{context.patientId}}"
    assert all(
        key.startswith("history")
        for key in prefetch
        if key not in {"patient", "encounter", "conditions"}
    )


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ({"no-such-rule": "sensitive"}, "no rule 'no-such-rule'"),
        ({"vitamin-d-testing": "sensitive"}, "has no sensitive variant"),
    ],
)
def test_a_variant_setting_that_names_no_rule_or_variant_is_refused_at_start(
    settings, variants, message
):
    with pytest.raises(ValueError, match=message):
        Settings(**{**settings.model_dump(), "cds_rule_variants": variants})


async def test_the_organizations_variant_choice_changes_the_answer(session_factory, settings):
    # PSA at 72: low-value under the sensitive variant (70+), not under the specific (75+).
    psa = service_request("cpt", "84153")
    call = hook_request(psa, conditions=conditions())
    call.prefetch["patient"] = patient(age=72)  # type: ignore[index]
    sensitive = settings.model_copy(
        update={"cds_rule_variants": {"psa-screening-older-men": "sensitive"}}
    )

    assert await cards(session_factory, settings, call, "valueloop-order-sign") == []
    [card] = await cards(session_factory, sensitive, call, "valueloop-order-sign")
    assert card.source.topic is not None
    assert card.source.topic.code == "psa-screening-older-men"


def test_the_order_is_read_back_from_the_app_context_the_card_writes():
    app_context = app_context_of("ServiceRequest/sr-1", "low-back-pain-imaging", uuid.uuid4())

    assert order_in_app_context(app_context) == "ServiceRequest/sr-1"


@pytest.mark.parametrize(
    "app_context",
    [
        None,
        "",
        "not json",
        '["ServiceRequest/sr-1"]',
        '{"order": "ServiceRequest/sr-1"}',  # another service's shape
        '{"order": "Patient/p1", "rule": "r", "card": "c"}',
        '{"order": "ServiceRequest/a b", "rule": "r", "card": "c"}',
        '{"order": 12, "rule": "r", "card": "c"}',
    ],
)
def test_an_app_context_that_is_not_ours_names_no_order(app_context):
    assert order_in_app_context(app_context) is None
