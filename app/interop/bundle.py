"""All of one flag's resources, together: as a Bundle (R4 2.36, bundle.html) for one flag, or
one by one for bulk NDJSON.

The Bundle is a ``collection`` (R4 BundleType): a set of resources about one flag, not the
answer to a search (``searchset``) nor something to store (``transaction``). Each entry's
fullUrl is its ``urn:uuid:``, and the resources point at each other by it. Its timestamp is
the flag's last change, so two exports of an unchanged flag are identical.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from enum import StrEnum

from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.resource import Resource

from app.flags.models import Flag, FlagEvent
from app.flags.owners import People
from app.interop.communication import communications
from app.interop.detected_issue import detected_issue
from app.interop.ids import full_url, resource_id
from app.interop.provenance import provenances
from app.interop.task import task


class FlagResourceType(StrEnum):
    """The resource types a flag is exported as (the bulk export's ``type`` filter)."""

    DETECTED_ISSUE = "DetectedIssue"
    TASK = "Task"
    COMMUNICATION = "Communication"
    PROVENANCE = "Provenance"


ALL_TYPES: frozenset[FlagResourceType] = frozenset(FlagResourceType)


def flag_resources(
    base_url: str,
    flag: Flag,
    events: Sequence[FlagEvent],
    people: People,
    types: Collection[FlagResourceType] = ALL_TYPES,
) -> Iterator[Resource]:
    """The flag's resources of ``types``: its DetectedIssue, its Task, a Communication per
    reply and a Provenance per timeline event (``events``, oldest first)."""
    if FlagResourceType.DETECTED_ISSUE in types:
        yield detected_issue(base_url, flag, events)
    if FlagResourceType.TASK in types:
        yield task(base_url, flag, people)
    if FlagResourceType.COMMUNICATION in types:
        yield from communications(base_url, flag, events)
    if FlagResourceType.PROVENANCE in types:
        yield from provenances(base_url, flag, events)


def flag_bundle(base_url: str, flag: Flag, events: Sequence[FlagEvent], people: People) -> Bundle:
    """Every resource of the flag in one ``collection`` Bundle."""
    entries = [
        BundleEntry(fullUrl=full_url(resource.id), resource=resource)
        for resource in flag_resources(base_url, flag, events, people)
        if resource.id is not None
    ]
    return Bundle(
        id=resource_id(flag.id, "Bundle"),
        type="collection",
        timestamp=flag.updated_at,
        entry=entries,
    )
