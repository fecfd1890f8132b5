"""The audit trail's filters as query parameters, shared by the list and the CSV export."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query

from app.audit.schemas import AuditFilters
from app.audit.service import AuditAction
from app.errors import UnprocessableContent
from app.flags.models import FHIR_ID_MAX_LENGTH
from app.kit.time import CalendarDay

_ACTOR_MAX = 500  # AuditEvent.actor_id's length


async def audit_filters(
    actor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=_ACTOR_MAX,
            description="Part of who acted, any case: a staff member's name, a token or "
            "session id, or a clinician's fhirUser (e.g. 'Practitioner/123').",
        ),
    ] = None,
    action: Annotated[
        AuditAction | None, Query(description="Only this kind of access or change.")
    ] = None,
    entity_id: Annotated[
        str | None,
        Query(max_length=100, description="Only events about the record with this exact id."),
    ] = None,
    flag_id: Annotated[
        uuid.UUID | None,
        Query(
            description="Events about this flag: reads and changes of it, and the searches, "
            "exports and duplicate checks that listed it."
        ),
    ] = None,
    patient_id: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=FHIR_ID_MAX_LENGTH,
            description="A patient's FHIR id: reads of their chart in the EHR and events "
            "about their flags (in any registered EHR).",
        ),
    ] = None,
    date_from: Annotated[
        CalendarDay | None, Query(description="First day, inclusive (UTC), as YYYY-MM-DD.")
    ] = None,
    date_to: Annotated[
        CalendarDay | None, Query(description="Last day, inclusive (UTC), as YYYY-MM-DD.")
    ] = None,
) -> AuditFilters:
    if date_from and date_to and date_from > date_to:
        raise UnprocessableContent(
            f"date_from ({date_from}) is after date_to ({date_to}); swap them."
        )
    return AuditFilters(
        actor=actor,
        action=action,
        entity_id=entity_id,
        flag_id=flag_id,
        patient_id=patient_id,
        date_from=date_from,
        date_to=date_to,
    )


AuditFiltersDep = Annotated[AuditFilters, Depends(audit_filters)]
