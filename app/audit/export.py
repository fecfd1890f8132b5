"""The audit trail as CSV (or, through app/interop/export.py, as FHIR AuditEvents), streamed in
constant memory for any number of events.

The export reads on its own session because it outlives the request's unit of work: the
response body is produced after the handler has returned (and after the record of the export
itself has been committed).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import repository
from app.audit.models import AuditEvent
from app.audit.schemas import AuditFilters
from app.interop.urls import FHIR_NDJSON
from app.kit.spreadsheet import CSV_MEDIA_TYPE, csv_lines


class AuditExportFormat(StrEnum):
    CSV = "csv"
    # One R4 AuditEvent per line (app/interop/audit_event.py).
    FHIR_NDJSON = "fhir-ndjson"

    @property
    def media_type(self) -> str:
        return CSV_MEDIA_TYPE if self is AuditExportFormat.CSV else FHIR_NDJSON

    @property
    def extension(self) -> str:
        return "csv" if self is AuditExportFormat.CSV else "ndjson"


COLUMNS: tuple[str, ...] = (
    "id",
    "at",
    "actor_kind",
    "actor_id",
    "actor_role",
    "action",
    "entity_type",
    "entity_id",
    "issuer",
    "request_id",
    "source_ip",
    "details",
)


def _row(event: AuditEvent) -> list[Any]:
    return [
        event.id,
        event.at.isoformat(),
        event.actor_kind,
        event.actor_id,
        event.actor_role,
        event.action,
        event.entity_type,
        event.entity_id,
        event.issuer,
        event.request_id,
        event.source_ip,
        json.dumps(event.details, ensure_ascii=False, sort_keys=True) if event.details else None,
    ]


async def stream_csv(
    factory: async_sessionmaker[AsyncSession], filters: AuditFilters
) -> AsyncIterator[bytes]:
    """The header, then the matching events newest first, a few hundred rows at a time."""
    yield csv_lines([], header=COLUMNS)
    rows: list[list[Any]] = []
    async with factory() as session:
        async for event in repository.stream(session, filters):
            rows.append(_row(event))
            if len(rows) >= repository.ROWS_PER_CHUNK:
                yield csv_lines(rows)
                rows = []
    if rows:
        yield csv_lines(rows)
