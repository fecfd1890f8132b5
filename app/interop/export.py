"""Bulk FHIR: flags' resources and the audit trail as NDJSON (one resource per line, FHIR Bulk
Data Access 1.0), streamed in constant memory for any number of rows.

Like the CSV exports, each reads on its own session because the body outlives the request's
unit of work. Flags are read in batches; each batch's timelines come in one query, and every
row read is dropped from the session once written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence

from fhir.resources.R4B.resource import Resource
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import repository as audit_repository
from app.audit.schemas import AuditFilters
from app.flags import repository as flags_repository
from app.flags.filters import FlagFilters
from app.flags.models import Flag
from app.flags.owners import People
from app.insights import repository as insights_repository
from app.interop.audit_event import audit_event
from app.interop.bundle import FlagResourceType, flag_resources
from app.interop.responses import fhir_json
from app.organizations.scope import OrganizationScope, bind
from app.staff import repository as staff_repository

# Flags per batch: each is a handful of resources (one per timeline event and reply, and two).
FLAGS_PER_CHUNK = 200


def ndjson_line(resource: Resource) -> str:
    return fhir_json(resource) + "\n"


async def _batch(
    session: AsyncSession,
    base_url: str,
    flags: Sequence[Flag],
    people: People,
    types: Collection[FlagResourceType],
) -> bytes:
    timelines = await flags_repository.timelines(session, [flag.id for flag in flags])
    lines: list[str] = []
    for flag in flags:
        events = timelines[flag.id]
        resources = flag_resources(base_url, flag, events, people, types)
        lines += [ndjson_line(resource) for resource in resources]
        for event in events:
            session.expunge(event)
    return "".join(lines).encode()


async def stream_flag_resources(
    factory: async_sessionmaker[AsyncSession],
    filters: FlagFilters,
    types: Collection[FlagResourceType],
    *,
    base_url: str,
    scope: OrganizationScope,
) -> AsyncIterator[bytes]:
    """The matching flags' resources of ``types`` that ``scope`` may see, oldest flag first, a
    batch at a time."""
    batch: list[Flag] = []
    async with factory() as session:
        bind(session, scope)
        # The whole directory once, as the CSV export does: it is small, flags are many.
        people = {person.id: person for person in await staff_repository.everyone(session)}
        async for flag in insights_repository.stream(session, filters):
            batch.append(flag)
            if len(batch) >= FLAGS_PER_CHUNK:
                yield await _batch(session, base_url, batch, people, types)
                batch = []
        if batch:
            yield await _batch(session, base_url, batch, people, types)


async def stream_audit_events(
    factory: async_sessionmaker[AsyncSession], filters: AuditFilters, *, base_url: str
) -> AsyncIterator[bytes]:
    """The matching audit rows as AuditEvents, newest first, a chunk at a time."""
    lines: list[str] = []
    async with factory() as session:
        async for event in audit_repository.stream(session, filters):
            lines.append(ndjson_line(audit_event(base_url, event)))
            session.expunge(event)  # keep memory flat over any number of rows
            if len(lines) >= audit_repository.ROWS_PER_CHUNK:
                yield "".join(lines).encode()
                lines = []
    if lines:
        yield "".join(lines).encode()
