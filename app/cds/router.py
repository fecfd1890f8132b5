"""CDS Hooks 2.0 endpoints: discovery and the two order services (specification sections
"Discovery" and "Calling a CDS Service"). Every call, discovery included ("Trusting CDS
Clients": "whether that be a Discovery call, a single CDS Service invocation, or multiple
exchanges"), is from a CDS client that proved who it is with a signed JWT (app/cds/trust.py)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from app.audit import service as audit
from app.audit.repository import PATIENT_ENTITY
from app.cds import feedback, service
from app.cds.dependencies import CdsCaller
from app.cds.errors import MalformedCdsRequest
from app.cds.schemas import CardsResponse, Discovery, FeedbackRequest, HookRequest
from app.db import SessionDep
from app.dependencies import HttpDep, SettingsDep
from app.errors import fields_summary, validation_fields
from app.kit.time import utcnow


class CdsHooksRoute(APIRoute):
    """A CDS Hooks body that does not validate is a 400 (CDS Hooks 2.0 answers malformed
    requests with 400), not the API's 422; the fields at fault are named the same way.

    The caller's JWT is checked first (a dependency), so only a trusted client learns which
    fields were wrong.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                if any(error.get("type") == "json_invalid" for error in exc.errors()):
                    raise  # the app's "Malformed JSON" 400 says it best
                fields = validation_fields(exc)
                raise MalformedCdsRequest(fields_summary(fields), errors=fields) from None

        return handle


router = APIRouter(prefix="/cds-services", tags=["cds-hooks"], route_class=CdsHooksRoute)

ServiceId = Annotated[
    str, Path(max_length=64, description="A service id from the discovery document.")
]


@router.get("")
async def discover(_: CdsCaller) -> Discovery:
    """The CDS services ValueLoop offers, with the data each asks the EHR to prefetch."""
    return service.discovery()


@router.post("/{service_id}", response_model_exclude_none=True)
async def call_service(
    service_id: ServiceId,
    call: HookRequest,
    caller: CdsCaller,
    request: Request,
    session: SessionDep,
    http: HttpDep,
    settings: SettingsDep,
) -> CardsResponse:
    """Judge the draft orders: a card for each one a published measure finds low-value."""
    answer = await service.cards_for(
        service_id,
        call,
        session=session,
        http=http,
        settings=settings,
        client_iss=caller.iss,
        organization_id=caller.organization_id,
        organization_variants=caller.rule_variants,
    )
    # The call carried a patient's record: who read it, for which patient, with what result.
    audit.for_request(
        request, session, actor_kind="cds_client", actor_id=caller.iss, actor_role="cds_client"
    ).record(
        audit.AuditAction.READ,
        PATIENT_ENTITY,
        entity_id=call.context.patientId,
        issuer=str(call.fhirServer) if call.fhirServer else None,
        details={"service": service_id, "hook": call.hook, "cards": len(answer.cards)},
    )
    return answer


@router.post("/{service_id}/feedback")
async def give_feedback(
    service_id: ServiceId,
    body: FeedbackRequest,
    caller: CdsCaller,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> dict[str, int]:
    """What became of the cards: accepted, or overridden with a reason (stored once each)."""
    stored = await feedback.record(
        session, service_id, body, client_iss=caller.iss, now=utcnow(), settings=settings
    )
    audit.for_request(
        request, session, actor_kind="cds_client", actor_id=caller.iss, actor_role="cds_client"
    ).record(
        audit.AuditAction.CREATE,
        "cds-feedback",
        details={"service": service_id, "outcomes": len(body.feedback), "new": stored},
    )
    return {"stored": stored}
