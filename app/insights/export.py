"""Streamed exports of flags as CSV, NDJSON or FHIR NDJSON, in constant memory for any number of
rows.

The export reads on its own session because it outlives the request's unit of work: the
response body is produced after the handler has returned.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Collection
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.errors import UnprocessableContent
from app.flags.costs import cents_to_amount
from app.flags.filters import FlagFilters
from app.flags.models import Flag
from app.flags.owners import People
from app.flags.views import owner, reporter
from app.insights import repository
from app.interop.bundle import ALL_TYPES, FlagResourceType
from app.interop.export import stream_flag_resources
from app.interop.urls import FHIR_NDJSON
from app.organizations.scope import OrganizationScope, bind
from app.staff import repository as staff_repository

ROWS_PER_CHUNK = 500
# Spreadsheet programs run cells that start with these as formulas (CSV injection, OWASP).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class ExportFormat(StrEnum):
    CSV = "csv"
    NDJSON = "ndjson"
    # The flags' FHIR resources, one per line (app/interop/export.py).
    FHIR_NDJSON = "fhir-ndjson"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]

    @property
    def extension(self) -> str:
        """The file name's extension: both NDJSON formats are .ndjson."""
        return "csv" if self is ExportFormat.CSV else "ndjson"


_MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.NDJSON: "application/x-ndjson",
    ExportFormat.FHIR_NDJSON: FHIR_NDJSON,
}


EXPORT_COLUMNS: tuple[str, ...] = (
    "id",
    "created_at",
    "updated_at",
    "status",
    "priority",
    "reason",
    "driver",
    "timing",
    "issuer",
    "department",
    "encounter_class",
    "encounter_type",
    "order_resource_type",
    "order_code_system",
    "order_code",
    "order_display",
    "order_status",
    "order_requester_role",
    "patient_age_band",
    "patient_sex",
    "reporter_anonymity",
    "reporter_role",
    "reporter_fhir_user",
    "reporter_display",
    "owner_lead",
    "owner_operational_lead",
    "estimated_cost",
    "cost_source",
    "cost_year",
    "first_reply_at",
    "hours_to_first_reply",
    "closed_at",
    "hours_to_close",
    "duplicate_of",
    "tags",
    "note",
)


def export_record(flag: Flag, people: People) -> dict[str, Any]:
    """One flat row for CSV and NDJSON exports (same reporter masking as the API).

    The patient's FHIR id stays out: aggregate analysis does not need it (minimum necessary).
    Owners are named from the staff directory (``people``).
    """
    shown = reporter(flag)
    lead = owner(flag, people)
    first_lead = (lead.lead or lead.clinical_lead) if lead else None
    return {
        "id": str(flag.id),
        "created_at": flag.created_at.isoformat(),
        "updated_at": flag.updated_at.isoformat(),
        "status": flag.status,
        "priority": flag.priority,
        "reason": flag.reason,
        "driver": flag.driver,
        "timing": flag.timing,
        "issuer": flag.issuer,
        "department": flag.department,
        "encounter_class": flag.encounter_class,
        "encounter_type": flag.encounter_type,
        "order_resource_type": flag.order_resource_type,
        "order_code_system": flag.order_code_system,
        "order_code": flag.order_code,
        "order_display": flag.order_display,
        "order_status": flag.order_status,
        "order_requester_role": flag.order_requester_role,
        "patient_age_band": flag.patient_age_band,
        "patient_sex": flag.patient_sex,
        "reporter_anonymity": shown.anonymity.value,
        "reporter_role": shown.role.value,
        "reporter_fhir_user": shown.fhir_user,
        "reporter_display": shown.display,
        "owner_lead": first_lead.name if first_lead else None,
        "owner_operational_lead": (
            lead.operational_lead.name if lead and lead.operational_lead else None
        ),
        "estimated_cost": (
            str(cents_to_amount(flag.estimated_cost_cents))
            if flag.estimated_cost_cents is not None
            else None
        ),
        "cost_source": flag.cost_source,
        "cost_year": flag.cost_year,
        "first_reply_at": flag.first_reply_at.isoformat() if flag.first_reply_at else None,
        "hours_to_first_reply": _hours(flag.reply_wait_seconds),
        # When the review ended (closed, not low-value or duplicate); empty while open.
        "closed_at": flag.closed_at.isoformat() if flag.closed_at else None,
        "hours_to_close": _hours(flag.close_wait_seconds),
        "duplicate_of": str(flag.duplicate_of_id) if flag.duplicate_of_id else None,
        "tags": ";".join(flag.tags),
        "note": flag.note,
    }


def _hours(seconds: float | None) -> float | None:
    return round(seconds / 3600, 2) if seconds is not None else None


def neutralise_formula(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_chunk(rows: list[dict[str, Any]], *, header: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([neutralise_formula(row[column]) for column in EXPORT_COLUMNS])
    return buffer.getvalue().encode()


def _ndjson_chunk(rows: list[dict[str, Any]], *, header: bool) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


def export_stream(
    factory: async_sessionmaker[AsyncSession],
    filters: FlagFilters,
    fmt: ExportFormat,
    *,
    base_url: str,
    scope: OrganizationScope,
    types: Collection[FlagResourceType] | None = None,
) -> AsyncIterator[bytes]:
    """The export's bytes in ``fmt``: flat rows, or the flags' FHIR resources of ``types``
    (all when None). Refuses resource types with a format that has none, before any work."""
    if fmt is ExportFormat.FHIR_NDJSON:
        return stream_flag_resources(
            factory, filters, types or ALL_TYPES, base_url=base_url, scope=scope
        )
    if types is not None:
        raise UnprocessableContent("'type' picks FHIR resource types: add format=fhir-ndjson.")
    return stream_export(factory, filters, fmt, scope=scope)


async def stream_export(
    factory: async_sessionmaker[AsyncSession],
    filters: FlagFilters,
    fmt: ExportFormat,
    *,
    scope: OrganizationScope,
) -> AsyncIterator[bytes]:
    """The export's bytes as CSV or NDJSON rows, a few hundred rows at a time, of the flags
    ``scope`` may see."""
    if fmt is ExportFormat.FHIR_NDJSON:
        raise ValueError("FHIR NDJSON is made of resources, not rows: use export_stream")
    render: Callable[..., bytes] = _csv_chunk if fmt is ExportFormat.CSV else _ndjson_chunk
    header = True
    rows: list[dict[str, Any]] = []
    async with factory() as session:
        bind(session, scope)
        # The whole directory once: it is small, and the export may hold a million flags.
        people = {person.id: person for person in await staff_repository.everyone(session)}
        async for flag in repository.stream(session, filters):
            rows.append(export_record(flag, people))
            if len(rows) >= ROWS_PER_CHUNK:
                yield render(rows, header=header)
                header, rows = False, []
    if rows or header:
        yield render(rows, header=header)
