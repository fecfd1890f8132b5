"""A catch: the clinician accepted a card's suggestion to remove a low-value draft order, and
the registry records it as a flag "caught before" the order was carried out, reported by the
rule and acknowledged by that clinician (issue #15), beside the flags clinicians raise.

What the flag needs is kept when the card is given (``snapshot_of``): the draft order's code,
status and date, the patient's age band and sex, the encounter's class and start. The same
minimum the in-EHR flag keeps; no notes, no names.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import lowvalue
from app.cds.models import IssuedCard
from app.cds.schemas import HookRequest
from app.config import Settings
from app.flags import service as registry
from app.flags.catalog import AgeBand, Anonymity, ReporterRole, Timing
from app.flags.schemas import (
    CodingIn,
    CostEstimate,
    EncounterSnapshot,
    FlagCreate,
    OrderSnapshot,
    PatientSnapshot,
    ReporterIn,
)
from app.prices import service as prices
from app.rules.agreement import agreement_for
from app.rules.reasons import reason_for

CATCH_TAG = "cds-catch"


def _first_coding(concept: Any) -> dict[str, Any]:
    codings = (concept or {}).get("coding") or [{}]
    first = dict(codings[0])
    first.setdefault("display", (concept or {}).get("text"))
    return first


def _age_band(birth_date: str | None, on: date) -> str | None:
    try:
        born = date.fromisoformat(str(birth_date)[:10])
    except ValueError:
        return None
    return AgeBand.on(born, on).value


def snapshot_of(
    request: HookRequest, prefetch: dict[str, Any], decision: lowvalue.Decision
) -> dict[str, Any]:
    """The facts a catch's flag needs about the order, the patient and the encounter."""
    resource_type, _, fhir_id = decision.order.partition("/")
    entries = request.context.draftOrders.get("entry") or []
    order: dict[str, Any] = next(
        (
            entry["resource"]
            for entry in entries
            if (entry.get("resource") or {}).get("id") == fhir_id
            and entry["resource"].get("resourceType") == resource_type
        ),
        {},
    )
    concept = order.get("code") or order.get("medicationCodeableConcept")
    patient = prefetch.get("patient") or {}
    encounter = prefetch.get("encounter") or {}
    return {
        "order": {
            "resource_type": resource_type,
            "fhir_id": fhir_id,
            "coding": _first_coding(concept),
            "status": order.get("status", "draft"),
            "intent": order.get("intent"),
            "authored_on": order.get("authoredOn"),
        },
        "patient": {
            "fhir_id": request.context.patientId,
            "age_band": _age_band(patient.get("birthDate"), decision.evaluated_on),
            "sex": patient.get("gender"),
        },
        "encounter": {
            "fhir_id": request.context.encounterId,
            "class_code": (encounter.get("class") or {}).get("code"),
            "start": (encounter.get("period") or {}).get("start"),
        },
        "evaluated_on": decision.evaluated_on.isoformat(),
        "rule_title": decision.title,
    }


def _aware(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def record_catch(session: AsyncSession, card: IssuedCard, *, settings: Settings) -> uuid.UUID:
    """The "caught before" flag for an accepted card (once: its key is the card's)."""
    facts = card.snapshot
    order, patient, encounter = facts["order"], facts["patient"], facts["encounter"]
    coding = order["coding"]
    evaluated_on = date.fromisoformat(facts["evaluated_on"])
    codings = [(coding.get("system"), coding.get("code"))]
    price = await prices.price_for(session, codings, on=evaluated_on)
    data = FlagCreate(
        issuer=card.client_iss,
        idempotency_key=f"cds-{card.id.hex}",
        anonymity=Anonymity.IDENTIFIED,
        reporter=ReporterIn(
            fhir_user=card.user_id,
            display=f"Caught at signing by the rule: {facts['rule_title']}"[:200],
            role=ReporterRole.OTHER,
        ),
        patient=PatientSnapshot(
            fhir_id=patient["fhir_id"], age_band=patient["age_band"], sex=patient["sex"]
        ),
        encounter=EncounterSnapshot(
            fhir_id=encounter["fhir_id"],
            class_code=encounter["class_code"],
            start=_aware(encounter["start"]),
        )
        if encounter["fhir_id"]
        else None,
        order=OrderSnapshot(
            resource_type=order["resource_type"],
            fhir_id=order["fhir_id"],
            code=CodingIn(
                system=coding.get("system"),
                code=coding.get("code"),
                display=coding.get("display") or facts["rule_title"],
            ),
            status=order["status"],
            intent=order["intent"],
            authored_on=_aware(order["authored_on"]),
        ),
        timing=Timing.BEFORE,
        reason=reason_for(card.rule_id),
        note=(
            f"Caught at order signing by the ValueLoop rule {card.rule_id} "
            f"(version {card.rule_version}); the clinician accepted the suggestion to remove "
            "the order."
        ),
        estimated_cost=CostEstimate.of(price),
        tags=[CATCH_TAG],
        # The rule that caught it agreed, by definition: recorded as an in-EHR flag's is.
        rule_agreement=[agreement_for(card.rule_id, card.rule_version)],
    )
    created = await registry.create_flag(
        session,
        data,
        # The calling client's organization, recorded on the card when it was given.
        organization_id=card.organization_id,
        secret_key=settings.resolved_secret_key(),
    )
    return created.flag.id
