"""Stable resource ids: the same flag exported twice gives the same ids, so a receiver can
update what it loaded instead of piling up copies.

Each id is a UUID v5 of the flag's id and the resource's place in the flag's export (RFC 9562
section 5.5); the flag's id is random, so ids of different flags never meet.
"""

from __future__ import annotations

import uuid

# Fixed forever: changing it changes every id ever exported.
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://valueloop.invalid/fhir/ids")


def resource_id(flag_id: uuid.UUID, resource_type: str, part: object = None) -> str:
    """The id of one resource of a flag's export; ``part`` tells apart several of one type
    (the timeline event a Communication or a Provenance is made from)."""
    name = f"{flag_id}/{resource_type}" if part is None else f"{flag_id}/{resource_type}/{part}"
    return str(uuid.uuid5(_NAMESPACE, name))


def full_url(resource_id: str) -> str:
    """Bundle.entry.fullUrl (R4 2.36.4.1): a ``urn:uuid:``, since the resources live nowhere
    else; references between them use it too."""
    return f"urn:uuid:{resource_id}"
