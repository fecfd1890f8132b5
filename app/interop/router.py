"""FHIR over HTTP: ValueLoop's CodeSystems (public: they hold no patient data) and one flag as
a Bundle (``/api/v1``, READ_FLAGS, audited as a read of the flag). The bulk NDJSON exports
extend the existing exports (app/insights/router.py, app/audit/router.py).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from app.audit.service import AuditAction, StaffAuditor
from app.auth.dependencies import CanReadFlags
from app.db import SessionDep
from app.dependencies import SettingsDep
from app.interop import service
from app.interop.codesystems import CodeSystemId
from app.interop.responses import FhirJsonResponse, fhir_json_response

router = APIRouter(tags=["fhir"])

_KNOWN = ", ".join(CodeSystemId)


@router.get(
    "/fhir/CodeSystem/{code_system_id}",
    response_class=FhirJsonResponse,
    responses=fhir_json_response("The CodeSystem resource (R4), every concept with its label."),
)
async def code_system(
    code_system_id: Annotated[
        str, Path(max_length=64, description=f"The CodeSystem's id: one of {_KNOWN}.")
    ],
    settings: SettingsDep,
) -> FhirJsonResponse:
    """One of ValueLoop's vocabularies (reasons, drivers, statuses, ...) as a FHIR CodeSystem."""
    found = service.published_code_system(code_system_id, base_url=settings.base_url)
    return FhirJsonResponse(found)


@router.get(
    "/api/v1/flags/{flag_id}/fhir",
    tags=["registry"],
    response_class=FhirJsonResponse,
    responses=fhir_json_response(
        "A `collection` Bundle: the DetectedIssue, its Task, a Communication per reply to the "
        "reporter and a Provenance per timeline event (docs/fhir.md)."
    ),
)
async def flag_as_fhir(
    flag_id: uuid.UUID,
    session: SessionDep,
    auditor: StaffAuditor,
    settings: SettingsDep,
    _: CanReadFlags,
) -> FhirJsonResponse:
    """One flag and its follow-up as FHIR R4 resources in a Bundle."""
    found = await service.flag_as_fhir(session, flag_id, base_url=settings.base_url)
    auditor.record(
        AuditAction.READ,
        "flag",
        entity_id=str(found.flag.id),
        issuer=found.flag.issuer,
        details={"format": "fhir"},
    )
    return FhirJsonResponse(found.bundle)
