"""The CDS Hooks services: what they ask the EHR to prefetch, and how a hook call becomes cards.

A call is judged on what the EHR sent (``prefetch``); what it did not send is read from
``fhirServer`` with ``fhirAuthorization`` (CDS Hooks 2.0 "FHIR Resource Access"), through the
same FHIR client the launch uses, and only from an EHR registered with ValueLoop. Rules still
short of history then ask for it (``lowvalue.evaluate_with_history``); a rule that stays
undecided shows nothing: a card is never a guess.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx
from fhir.resources.R4B.resource import Resource
from sqlalchemy.ext.asyncio import AsyncSession

import lowvalue
from app.cds import counts, repository
from app.cds.cards import card_for
from app.cds.catches import snapshot_of
from app.cds.errors import EhrDataUnavailable, UnknownService, UnusableHookRequest
from app.cds.models import IssuedCard
from app.cds.schemas import Card, CardsResponse, Discovery, HookRequest, ServiceDefinition
from app.config import Settings
from app.ehrs import service as ehrs
from app.kit.time import utcnow
from app.rules import variants as rule_variants
from app.rules.history import FhirHistory, history_failure_logger
from fhir_client import FhirClient, FhirError, SearchResult

logger = logging.getLogger(__name__)

PATIENT = "{{context.patientId}}"
# What the rules read (lowvalue/docs/rules.md): the patient, the encounter and its setting,
# every condition, and the history the rules look back over. CDS Hooks 2.0 prefetch tokens
# are context fields only, so history searches cannot carry a date; the rules pick their
# window from what comes back.
PREFETCH = {
    "patient": f"Patient/{PATIENT}",
    "encounter": "Encounter/{{context.encounterId}}",
    "conditions": f"Condition?patient={PATIENT}",
    "historyEncounters": f"Encounter?patient={PATIENT}",
    "historyProcedures": f"Procedure?patient={PATIENT}",
    "historyServiceRequests": f"ServiceRequest?patient={PATIENT}",
    "historyMedicationRequests": f"MedicationRequest?patient={PATIENT}",
}
SERVICES = {
    "valueloop-order-select": ServiceDefinition(
        hook="order-select",
        id="valueloop-order-select",
        title="ValueLoop low-value care check (order selected)",
        description="Says when a selected order is low-value care by a published measure, "
        "with the measure and the exemptions checked. Silent otherwise.",
        prefetch=PREFETCH,
    ),
    "valueloop-order-sign": ServiceDefinition(
        hook="order-sign",
        id="valueloop-order-sign",
        title="ValueLoop low-value care check (before signing)",
        description="Before orders are signed, says which are low-value care by a published "
        "measure and suggests removing them. Silent otherwise.",
        prefetch=PREFETCH,
    ),
}


def discovery() -> Discovery:
    return Discovery(services=list(SERVICES.values()))


def definition(service_id: str) -> ServiceDefinition:
    found = SERVICES.get(service_id)
    if found is None:
        raise UnknownService(f"No CDS service {service_id!r}; GET /cds-services lists them.")
    return found


def _as_json(resource: Resource) -> dict[str, Any]:
    dumped: dict[str, Any] = resource.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def _bundle(resources: list[Resource], self_link: str | None) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": _as_json(resource)} for resource in resources],
    }
    if self_link is not None:
        bundle["link"] = [{"relation": "self", "url": self_link}]
    return bundle


async def _fhir_for(
    request: HookRequest, session: AsyncSession, http: httpx.AsyncClient
) -> FhirClient | None:
    if request.fhirServer is None or request.fhirAuthorization is None:
        return None
    # Only a registered EHR: the URL comes from the caller, and the token is for that server.
    ehr = await ehrs.trusted(session, str(request.fhirServer))
    return FhirClient(http, ehr.issuer, request.fhirAuthorization.access_token)


async def _completed_prefetch(request: HookRequest, fhir: FhirClient | None) -> dict[str, Any]:
    """The prefetch, with what the EHR left out read from its FHIR server when it allows
    (the reads run together: each is a round trip to the EHR)."""
    prefetch: dict[str, Any] = dict(request.prefetch or {})
    context = request.context
    if fhir is None:
        return prefetch
    reads: dict[str, Awaitable[Any]] = {}
    if prefetch.get("patient") is None:
        reads["patient"] = fhir.read("Patient", context.patientId)
    if prefetch.get("encounter") is None and context.encounterId:
        reads["encounter"] = fhir.read("Encounter", context.encounterId)
    if prefetch.get("conditions") is None:
        reads["conditions"] = fhir.search("Condition", {"patient": context.patientId})
    try:
        results = await fhir.gather(*reads.values())
    except FhirError as exc:
        raise EhrDataUnavailable(f"The EHR's FHIR server could not be read: {exc}") from exc
    for key, result in zip(reads, results, strict=True):
        if isinstance(result, SearchResult):
            # A search cut short proves no absence: then it carries no self link.
            search = None if result.truncated else f"Condition?patient={context.patientId}"
            prefetch[key] = _bundle(list(result.resources), search)
        else:
            prefetch[key] = _as_json(result)
    return prefetch


async def _decisions(
    request: HookRequest, fhir: FhirClient | None, variants: Mapping[str, lowvalue.VariantName]
) -> tuple[list[lowvalue.Decision], dict[str, Any]]:
    """Every rule's decision on the draft orders, with the history it could get, and the
    prefetch as completed from the EHR."""
    # What the library reads, as sent (prefetch and draft orders stay the JSON they came as):
    # dumping the whole request again would copy every prefetched resource for nothing.
    prefetch = await _completed_prefetch(request, fhir)
    body = {"context": {"draftOrders": request.context.draftOrders}, "prefetch": prefetch}
    try:
        case = lowvalue.case_from_cds_request(body, only_for=lowvalue.default_catalog())
    except lowvalue.CaseError as exc:
        raise UnusableHookRequest(str(exc)) from exc
    if case.notes:  # types and element paths only, never values
        logger.debug("CDS call %s: %s", request.hookInstance, "; ".join(case.notes))
    if fhir is None:
        return lowvalue.evaluate(case, variants=variants), prefetch
    decisions, _ = await lowvalue.evaluate_with_history(
        case,
        FhirHistory(fhir),
        variants=variants,
        # The rules that wanted a failed search stay undecided, so silent; the others speak.
        on_failure=history_failure_logger(logger, "CDS call"),
    )
    return decisions, prefetch


def _issued(
    service_id: str,
    request: HookRequest,
    decision: lowvalue.Decision,
    card: Card,
    *,
    client_iss: str,
    organization_id: uuid.UUID,
    issued_at: datetime,
    snapshot: dict[str, Any],
    order_code: counts.OrderCode | None,
) -> IssuedCard:
    """The record of a card given: ids only, no clinical text."""
    return IssuedCard(
        id=card.uuid,
        service_id=service_id,
        hook_instance=request.hookInstance,
        rule_id=decision.rule_id,
        rule_version=decision.rule_version,
        order_ref=decision.order,
        patient_id=request.context.patientId,
        encounter_id=request.context.encounterId,
        user_id=request.context.userId,
        suggestion_id=card.suggestions[0].uuid,
        client_iss=client_iss,
        organization_id=organization_id,
        issued_at=issued_at,
        snapshot=snapshot,
        order_code_system=order_code[0] if order_code else None,
        order_code=order_code[1] if order_code else None,
    )


def _cards(
    decisions: Sequence[lowvalue.Decision],
    codes: Sequence[counts.OrderCode | None],
    *,
    base_url: str,
    indicator: str,
) -> list[tuple[lowvalue.Decision, counts.OrderCode | None, Card]]:
    """A card for each decision that found its order low-value, with the order's code."""
    catalog = lowvalue.default_catalog()
    return [
        (
            decision,
            code,
            card_for(
                decision, catalog.rule(decision.rule_id), base_url=base_url, indicator=indicator
            ),
        )
        for decision, code in zip(decisions, codes, strict=True)
        if decision.outcome is lowvalue.Outcome.LOW_VALUE
    ]


async def cards_for(
    service_id: str,
    request: HookRequest,
    *,
    session: AsyncSession,
    http: httpx.AsyncClient,
    settings: Settings,
    client_iss: str,
    organization_id: uuid.UUID,
    organization_variants: Mapping[str, str] | None = None,
) -> CardsResponse:
    """The cards a hook call gets: one per draft order a rule finds low-value. Each card given
    is recorded (ids only), so its feedback can be checked and counted; the day's counts of
    orders evaluated and cards shown grow in the same transaction (app/cds/counts.py). Cards
    and counts belong to ``organization_id``, the calling client's, and the rules run the
    variants that organization chose over the installation's."""
    service = definition(service_id)
    if request.hook != service.hook:
        raise UnusableHookRequest(
            f"Service {service_id} answers the {service.hook} hook, not {request.hook}."
        )
    fhir = await _fhir_for(request, session, http)
    variants = rule_variants.effective(settings.cds_rule_variants, organization_variants)
    decisions, prefetch = await _decisions(request, fhir, variants)
    codes = counts.order_codes(decisions)
    indicator = "warning" if service.hook == "order-sign" else "info"
    given = _cards(decisions, codes, base_url=settings.base_url, indicator=indicator)
    now = utcnow()
    repository.add_cards(
        session,
        [
            _issued(
                service_id,
                request,
                decision,
                card,
                client_iss=client_iss,
                organization_id=organization_id,
                issued_at=now,
                snapshot=snapshot_of(request, prefetch, decision),
                order_code=code,
            )
            for decision, code, card in given
        ],
    )
    await counts.count_call(session, organization_id, service_id, now.date(), decisions, codes)
    return CardsResponse(cards=[card for _, _, card in given])
