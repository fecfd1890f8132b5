"""The clinician API used by the in-EHR page (``/api/v1/clinician``), scoped to one launch.

The page sends its app-session handle in the ``X-ValueLoop-Session`` header (EHR frames may
block cookies); the partitioned cookie set at launch is only a fallback.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field

from app.audit.service import AuditAction, Auditor, for_request
from app.db import SessionDep, SessionFactoryDep, autocommit_session
from app.dependencies import HttpDep, SettingsDep
from app.flags.schemas import ClinicianFlagIn
from app.launch import clinician, service
from app.launch.errors import SessionExpired
from app.launch.models import AppSession
from app.launch.style import style_hints
from app.reporter import service as reporter

router = APIRouter(prefix="/api/v1/clinician", tags=["clinician"])

SESSION_HEADER = "X-ValueLoop-Session"


async def app_session(
    request: Request, x_valueloop_session: Annotated[str | None, Header()] = None
) -> AppSession:
    """The request's app session, looked up and kept alive before the handler runs.

    Each statement commits on its own (no BEGIN/COMMIT round trips) and the connection goes
    back to the pool before the handler runs: while the handler waits on the EHR it holds
    none, a token refresh (which locks the session row in its own transaction) never waits on
    a row this request holds, and no request holds two connections at once, so a full pool
    cannot deadlock on itself.
    """
    handle = x_valueloop_session or request.cookies.get(service.SESSION_COOKIE)
    async with autocommit_session(request) as housekeeping:
        found = await service.current_session(housekeeping, handle)
        await service.touch(housekeeping, found)
    return found


AppSessionDep = Annotated[AppSession, Depends(app_session)]


async def clinician_auditor(
    request: Request, session: SessionDep, current: AppSessionDep
) -> Auditor:
    return for_request(
        request,
        session,
        actor_kind="clinician",
        actor_id=current.fhir_user or f"session {current.id}",
        actor_role="clinician",
    )


ClinicianAuditor = Annotated[Auditor, Depends(clinician_auditor)]


class PatientBanner(BaseModel):
    name: str | None
    age_band: str | None
    sex: str | None
    mrn: str | None


class EncounterOut(BaseModel):
    fhir_id: str | None
    class_code: str | None
    type: str | None
    department: str | None
    start: datetime | None
    status: str | None


class OrderOut(BaseModel):
    flagged_by_you: bool = Field(default=False, description="You flagged it in an earlier launch.")
    resource_type: str
    fhir_id: str
    display: str
    status: str
    intent: str | None
    authored_on: datetime | None
    requester: str | None
    category: str | None


class StyleOut(BaseModel):
    accent: str | None
    font_family: str | None


class ContextOut(BaseModel):
    patient: PatientBanner | None
    encounter: EncounterOut | None
    orders: list[OrderOut]
    warnings: list[str]
    smart_style_url: str | None
    style: StyleOut | None = Field(
        default=None, description="The EHR's style hints that keep the page readable."
    )
    focus_order: str | None = Field(
        default=None,
        description="An order the EHR launched ValueLoop on (fhirContext), as 'Type/id'.",
    )


@router.get("/context")
async def launch_context(
    session: SessionDep,
    factory: SessionFactoryDep,
    http: HttpDep,
    settings: SettingsDep,
    current: AppSessionDep,
    auditor: ClinicianAuditor,
) -> ContextOut:
    """The launch's patient (when the EHR wants a banner), encounter and its orders."""
    if current.patient_id is None:
        return ContextOut(
            patient=None,
            encounter=None,
            orders=[],
            warnings=["The EHR launched ValueLoop without a patient."],
            smart_style_url=current.smart_style_url,
        )
    client = await clinician.fhir_for(session, http, settings, current, factory)
    data, hints = await asyncio.gather(
        clinician.load_context(client, current),
        style_hints(http, current.smart_style_url, current.issuer),
    )
    await clinician.keep_flag_context(session, current, data.flag_context)
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
        patient=PatientBanner(**data.patient) if current.need_patient_banner else None,
        encounter=EncounterOut(**data.encounter) if data.encounter else None,
        orders=[
            OrderOut.model_validate(order, from_attributes=True).model_copy(
                update={"flagged_by_you": (order.resource_type, order.fhir_id) in flagged}
            )
            for order in data.orders
        ],
        warnings=data.warnings,
        smart_style_url=current.smart_style_url,
        style=StyleOut.model_validate(hints, from_attributes=True) if hints else None,
        focus_order=next(
            (
                reference
                for reference in current.fhir_context
                if reference.startswith(("ServiceRequest/", "MedicationRequest/"))
            ),
            None,
        ),
    )


class FlagReceipt(BaseModel):
    created: bool
    flag_id: str
    status: str
    order_display: str
    receipt_token: str | None


@router.post("/flags", status_code=201)
async def flag_order(
    request_body: ClinicianFlagIn,
    session: SessionDep,
    factory: SessionFactoryDep,
    http: HttpDep,
    settings: SettingsDep,
    current: AppSessionDep,
    auditor: ClinicianAuditor,
) -> FlagReceipt:
    """Flag one of this launch's orders as low-value; a retry with the same key is harmless."""
    created = await clinician.flag_order(session, http, settings, current, request_body, factory)
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


class ReplyOut(BaseModel):
    id: int
    at: datetime
    author: str
    body: str
    unread: bool


class MyFlagOut(BaseModel):
    id: uuid.UUID
    created_at: datetime
    status: str
    reason: str
    order_display: str
    unread: int
    replies: list[ReplyOut]


class MyFlags(BaseModel):
    unread: int
    items: list[MyFlagOut]


def _reporter(current: AppSession) -> str:
    if current.fhir_user is None:
        raise SessionExpired(
            "The EHR did not say who you are (no fhirUser), so ValueLoop cannot show your flags."
        )
    return current.fhir_user


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
