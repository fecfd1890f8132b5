"""What a clinician does through ValueLoop inside the EHR: flag an order of their launch.

Every flag is built from what the server itself reads from the EHR at submit time: a client
names an order, never its contents, and can only name an order of its own launch's patient
and encounter.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.clinician.access import ClinicianAccess
from app.clinician.context import FlagContext, check_order_belongs, read_flag_context
from app.clinician.errors import OrderNotInLaunch
from app.clinician.orders import OrderSummary, OrderView, codings, summarize_order
from app.clinician.schemas import ClinicianFlagIn
from app.ehrs import repository as ehr_repository
from app.flags import service as registry_service
from app.flags.costs import Price
from app.flags.schemas import (
    CodingIn,
    CostEstimate,
    EncounterSnapshot,
    FlagCreate,
    OrderSnapshot,
    PatientSnapshot,
    ReporterIn,
)
from app.kit.time import utcnow
from app.launch.errors import SessionExpired
from app.launch.models import AppSession
from app.prices import service as prices
from app.rules.agreement import agreement_of
from app.upstream_errors import ORDER_NOT_READABLE, order_not_readable


async def flag_order(
    session: AsyncSession, access: ClinicianAccess, request: ClinicianFlagIn
) -> registry_service.Created:
    """Flag an order as the EHR has it now: re-read, checked against the launch, snapshotted."""
    app_session = access.app_session
    if app_session.patient_id is None:
        raise OrderNotInLaunch("This launch has no patient, so there is nothing to flag.")
    order, facts = await _read_order(access, request)
    check_order_belongs(order, app_session)
    summary = summarize_order(request.resource_type.value, order)
    # Priced as on the day it was ordered (as the EHR dates it), else today.
    ordered_on = summary.authored_on.date() if summary.authored_on else utcnow().date()
    price = await prices.price_for(session, codings(order.concept), on=ordered_on)
    data = _flag_create(app_session, request, summary, facts, price=price)
    return await registry_service.create_flag(
        session,
        data,
        organization_id=await organization_of_launch(session, app_session),
        secret_key=access.settings.resolved_secret_key(),
    )


async def organization_of_launch(session: AsyncSession, app_session: AppSession) -> uuid.UUID:
    """The organization of the EHR that launched this session: its flags belong to it."""
    ehr = await ehr_repository.ehr_by_id(session, app_session.ehr_id)
    if ehr is None:  # unregistering an EHR ends its sessions (app.ehrs.service.unregister)
        raise SessionExpired("This EHR is no longer registered with ValueLoop; launch again.")
    return ehr.organization_id


async def _read_order(
    access: ClinicianAccess, request: ClinicianFlagIn
) -> tuple[OrderView, FlagContext]:
    """The named order as the EHR has it now, and the patient and encounter facts a flag
    snapshots, read together."""
    client = await access.fhir()
    try:
        return await client.gather(
            client.read_as(OrderView, request.resource_type.value, request.order_id),
            read_flag_context(client, access.app_session),
        )
    except ORDER_NOT_READABLE as exc:
        raise order_not_readable(exc) from exc


def _flag_create(
    app_session: AppSession,
    request: ClinicianFlagIn,
    summary: OrderSummary,
    facts: FlagContext,
    *,
    price: Price | None,
) -> FlagCreate:
    """The registry's snapshot of a flag: what the EHR said, and what the clinician chose."""
    encounter = facts.encounter
    return FlagCreate(
        issuer=app_session.issuer,
        idempotency_key=request.idempotency_key,
        anonymity=request.anonymity,
        # Who the EHR says is signed in; the registry keeps or drops it by anonymity level.
        reporter=ReporterIn(
            fhir_user=app_session.fhir_user or f"session:{app_session.id}",
            display=app_session.reporter_name,
            email=app_session.reporter_email,
            role=request.reporter_role,
        ),
        patient=PatientSnapshot(
            fhir_id=app_session.patient_id, age_band=facts.age_band, sex=facts.sex
        ),
        encounter=None
        if encounter is None
        else EncounterSnapshot.model_validate(encounter, from_attributes=True),
        order=_order_snapshot(summary),
        timing=request.timing,
        reason=request.reason,
        driver=request.driver,
        note=request.note,
        estimated_cost=CostEstimate.of(price),
        rule_agreement=agreement_of(
            facts.rules_agreed(request.resource_type.value, request.order_id)
        ),
    )


def _order_snapshot(summary: OrderSummary) -> OrderSnapshot:
    return OrderSnapshot(
        resource_type=summary.resource_type,
        fhir_id=summary.fhir_id,
        code=CodingIn(system=summary.code_system, code=summary.code, display=summary.display[:200]),
        status=summary.status,
        intent=summary.intent,
        authored_on=summary.authored_on,
    )
