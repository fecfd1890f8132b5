"""References from a flag's resources to the people and records they name.

The patient and the order live in the EHR the flag came from; ValueLoop points at them by
their FHIR type and id. The reporter is named only where :mod:`app.flags.anonymity` lets
readers see them (identified flags); otherwise a resource says "Anonymous reporter" or
"Confidential reporter", as the timeline does. Staff have no FHIR ids: they appear by name,
with ValueLoop's staff id as an identifier (R4 2.3.0.1, Reference.identifier).
"""

from __future__ import annotations

import uuid

from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.reference import Reference

from app.flags.anonymity import identity_hidden, reporter_name
from app.flags.models import Flag
from app.interop.ids import full_url
from app.interop.text import fhir_string
from app.interop.urls import identifier_system

FLAG_IDS = "flag"
STAFF_IDS = "staff"


def flag_identifier(base_url: str, flag_id: uuid.UUID | str) -> Identifier:
    """The flag's registry id, so a receiver can match resources back to the flag."""
    return Identifier(system=identifier_system(base_url, FLAG_IDS), value=str(flag_id))


def patient(flag: Flag) -> Reference:
    return Reference(reference=f"Patient/{flag.patient_fhir_id}")


def order(flag: Flag) -> Reference:
    """The flagged ServiceRequest or MedicationRequest, with the name it had when flagged."""
    return Reference(
        reference=f"{flag.order_resource_type}/{flag.order_fhir_id}",
        display=fhir_string(flag.order_display),
    )


def reporter(flag: Flag) -> Reference | None:
    """The reporter's fhirUser and name, or None where readers may not know them."""
    if identity_hidden(flag.anonymity) or not flag.reporter_fhir_user:
        return None
    return Reference(reference=flag.reporter_fhir_user, display=fhir_string(flag.reporter_display))


def reporter_or_role(flag: Flag) -> Reference:
    """The reporter where they may be named; else only what the timeline calls them."""
    return reporter(flag) or Reference(display=reporter_name(flag.anonymity, None))


def staff(base_url: str, name: str, staff_id: uuid.UUID | None) -> Reference:
    """A person of the quality team (or a named service token, which has no staff id)."""
    identifier = (
        Identifier(system=identifier_system(base_url, STAFF_IDS), value=str(staff_id))
        if staff_id is not None
        else None
    )
    return Reference(display=fhir_string(name) or "(unnamed)", identifier=identifier)


def local(resource_type: str, resource_id: str) -> Reference:
    """A reference to another resource of the same export, by its fullUrl (R4 2.36.4.1)."""
    return Reference(reference=full_url(resource_id), type=resource_type)
