"""Admin endpoints for the EHRs allowed to launch ValueLoop (``/api/v1/ehrs``)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from app.auth.dependencies import CanManageEhrs
from app.db import SessionDep
from app.ehrs import service as ehrs
from app.ehrs.schemas import EhrPublic, EhrRegistration
from app.ehrs.secrets import secret_box
from app.organizations import service as organizations
from app.organizations.models import DEFAULT_ORGANIZATION_ID

router = APIRouter(prefix="/api/v1/ehrs", tags=["registered EHRs"])


@router.get("")
async def list_ehrs(session: SessionDep, _: CanManageEhrs) -> list[EhrPublic]:
    """Every registered EHR, without client secrets."""
    return [EhrPublic.of(ehr) for ehr in await ehrs.all_registered(session)]


@router.post("", status_code=201)
async def register_ehr(
    registration: EhrRegistration, request: Request, session: SessionDep, _: CanManageEhrs
) -> EhrPublic:
    """Register an EHR (or replace the registration of the same issuer)."""
    ehr = await ehrs.register(
        session,
        issuer=registration.issuer,
        client_id=registration.client_id,
        client_auth=registration.client_auth,
        box=secret_box(request.app.state.settings),
        name=registration.name,
        client_secret=(
            registration.client_secret.get_secret_value() if registration.client_secret else None
        ),
        frame_origins=registration.frame_origins,
        scopes=registration.scopes,
        organization_id=await organizations.id_of(session, registration.organization)
        or DEFAULT_ORGANIZATION_ID,
    )
    return EhrPublic.of(ehr)


@router.delete("/{ehr_id}", status_code=204)
async def unregister_ehr(ehr_id: uuid.UUID, session: SessionDep, _: CanManageEhrs) -> Response:
    """Stop accepting launches from this EHR; its open sessions end now."""
    await ehrs.unregister(session, ehr_id)
    return Response(status_code=204)
