"""The clinician API used by the in-EHR page (``/api/v1/clinician``), scoped to one launch."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from fastapi import APIRouter

from app.audit.service import AuditAction
from app.cds.cards import order_in_app_context
from app.clinician import service
from app.clinician.context import keep_learned, load_context
from app.clinician.dependencies import AppSessionDep, ClinicianAccessDep, ClinicianAuditor
from app.clinician.orders import OrderSummary
from app.clinician.outcomes import Outcomes, outcomes
from app.clinician.schemas import (
    ClinicianFlagIn,
    ContextOut,
    EncounterOut,
    FlagReceipt,
    MyFlagOut,
    MyFlags,
    OrderOut,
    PatientBanner,
    ReplyOut,
    SignedInOut,
    StyleOut,
)
from app.clinician.style import style_hints
from app.db import SessionDep
from app.launch.errors import SessionExpired
from app.launch.models import AppSession
from app.reporter import service as reporter

router = APIRouter(prefix="/api/v1/clinician", tags=["clinician"])


@router.get("/context")
async def launch_context(
    session: SessionDep, access: ClinicianAccessDep, auditor: ClinicianAuditor
) -> ContextOut:
    """The launch's patient (when the EHR wants a banner), encounter and its orders."""
    current = access.app_session
    if current.patient_id is None:
        return ContextOut(
            signed_in=_signed_in(current),
            patient=None,
            encounter=None,
            orders=[],
            warnings=["The EHR launched ValueLoop without a patient."],
            smart_style_url=current.smart_style_url,
        )
    data, hints = await asyncio.gather(
        load_context(access),
        style_hints(access.http, current.smart_style_url, current.issuer),
    )
    await keep_learned(session, current, data)
    flagged = await reporter.already_flagged(
        session,
        issuer=current.issuer,
        fhir_user=current.fhir_user,
        orders=[(order.resource_type, order.fhir_id) for order in data.orders],
    )
    auditor.record(
        AuditAction.READ,
        "patient-context",
        entity_id=current.patient_id,
        issuer=current.issuer,
        details={"encounter": current.encounter_id, "orders": len(data.orders)},
    )
    return ContextOut(
        signed_in=_signed_in(current),
        patient=PatientBanner(**data.patient) if current.need_patient_banner else None,
        encounter=EncounterOut(**data.encounter) if data.encounter else None,
        orders=[
            OrderOut.model_validate(order, from_attributes=True).model_copy(
                update={
                    "flagged_by_you": (order.resource_type, order.fhir_id) in flagged,
                    "low_value": data.markers.get(f"{order.resource_type}/{order.fhir_id}"),
                }
            )
            for order in data.orders
        ],
        warnings=data.warnings,
        smart_style_url=current.smart_style_url,
        style=StyleOut.model_validate(hints, from_attributes=True) if hints else None,
        focus_order=_focus_order(current, data.orders),
    )


def _signed_in(current: AppSession) -> SignedInOut:
    return SignedInOut(
        name=current.reporter_name, email=current.reporter_email, fhir_user=current.fhir_user
    )


def _focus_order(current: AppSession, orders: Sequence[OrderSummary]) -> str | None:
    """An order the EHR launched ValueLoop on, as 'Type/id': fhirContext first, else the
    order named by our own appContext (a launch from a CDS card's link) when it is one of
    this launch's orders, all of them the launch patient's: another patient's order named
    in an appContext is ignored."""
    kinds = ("ServiceRequest/", "MedicationRequest/")
    named = next((ref for ref in current.fhir_context if ref.startswith(kinds)), None)
    if named is not None:
        return named
    from_card = order_in_app_context(current.app_context)
    shown = {f"{order.resource_type}/{order.fhir_id}" for order in orders}
    return from_card if from_card in shown else None


@router.post("/flags", status_code=201)
async def flag_order(
    request_body: ClinicianFlagIn,
    session: SessionDep,
    access: ClinicianAccessDep,
    auditor: ClinicianAuditor,
) -> FlagReceipt:
    """Flag one of this launch's orders as low-value; a retry with the same key is harmless."""
    current = access.app_session
    created = await service.flag_order(session, access, request_body)
    auditor.record(
        AuditAction.CREATE if created.created else AuditAction.READ,
        "flag",
        entity_id=str(created.flag.id),
        issuer=current.issuer,
        details={"order": f"{request_body.resource_type.value}/{request_body.order_id}"},
    )
    return FlagReceipt(
        created=created.created,
        flag_id=str(created.flag.id),
        status=created.flag.status,
        order_display=created.flag.order_display,
        receipt_token=created.receipt_token,
    )


def _reporter(current: AppSession) -> str:
    if current.fhir_user is None:
        raise SessionExpired(
            "The EHR did not say who you are (no fhirUser), so ValueLoop cannot show your flags."
        )
    return current.fhir_user


@router.get("/outcomes")
async def what_happened(session: SessionDep, current: AppSessionDep) -> Outcomes:
    """What happened to the flags of your organization and of the whole system in the last
    90 days: counts, actions and shareable replies; small cells suppressed, nobody named."""
    return await outcomes(session, current)


@router.get("/flags")
async def my_flags(
    session: SessionDep, current: AppSessionDep, auditor: ClinicianAuditor
) -> MyFlags:
    """Your flags across patients: status, the quality team's replies, what is unread."""
    flags = await reporter.flags_of(session, issuer=current.issuer, fhir_user=_reporter(current))
    auditor.record(
        AuditAction.SEARCH,
        "flag",
        issuer=current.issuer,
        details={"own_flags": [str(flag.id) for flag in flags]},
    )
    items = [
        MyFlagOut(
            id=flag.id,
            created_at=flag.created_at,
            status=flag.status,
            reason=flag.reason,
            order_display=flag.order_display,
            unread=flag.unread,
            replies=[
                ReplyOut.model_validate(reply, from_attributes=True) for reply in flag.replies
            ],
        )
        for flag in flags
    ]
    return MyFlags(unread=sum(item.unread for item in items), items=items)


@router.post("/flags/{flag_id}/read", status_code=204)
async def mark_read(flag_id: uuid.UUID, session: SessionDep, current: AppSessionDep) -> None:
    """Mark the replies on one of your flags as read."""
    await reporter.mark_replies_read(
        session, flag_id, issuer=current.issuer, fhir_user=_reporter(current)
    )
