"""Who is signed in: the ``fhirUser`` resource's display name and email.

SMART App Launch 2.x, "fhirUser": the id_token names the user as a FHIR resource URL,
typically a Practitioner or a PractitionerRole. :func:`read_user` reads that resource and
makes a person of it:

- a Practitioner: its name (``text``, else prefix, given and family) and its email
  (``telecom`` with ``system = email``, the one with the lowest ``rank`` first);
- a PractitionerRole: the name its ``practitioner`` reference displays, and the role's own
  email (a work address); the Practitioner is read only when the role names no one by
  display or carries no email.

A user that cannot be read (forbidden, missing, not a person) is no reason to fail a launch:
the caller gets the :class:`FhirError` as a value and falls back on the id_token's claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fhir.resources.R4B.contactpoint import ContactPoint
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole

from fhir_client.client import FhirClient
from fhir_client.errors import FhirError, FhirInvalidResponseError
from fhir_client.resources import expect_type

__all__ = ["USER_TYPES", "FhirUser", "read_user"]

# The fhirUser types that name a clinician, and so a reporter.
USER_TYPES = ("Practitioner", "PractitionerRole")


@dataclass(frozen=True)
class FhirUser:
    """The signed-in user as the EHR's directory has them; either part may be missing."""

    name: str | None
    email: str | None


def human_name(names: Sequence[HumanName] | None) -> str | None:
    """The first usable name: an official one first, its ``text`` or its parts joined."""
    ordered = sorted(names or [], key=lambda name: name.use != "official")
    for name in ordered:
        if name.text and name.text.strip():
            return str(name.text).strip()
        parts = [*(name.prefix or []), *(name.given or []), name.family or ""]
        joined = " ".join(str(part).strip() for part in parts if part and str(part).strip())
        if joined:
            return joined
    return None


def email_of(telecom: Sequence[ContactPoint] | None) -> str | None:
    """The preferred email (FHIR R4 ContactPoint: lowest ``rank`` first) that is in use."""
    emails = [
        point
        for point in telecom or []
        if point.system == "email"
        and point.value
        and "@" in point.value
        and (point.period is None or point.period.end is None)
    ]
    emails.sort(key=lambda point: point.rank if point.rank is not None else 1_000_000)
    return str(emails[0].value).strip() if emails else None


def _practitioner_id(role: PractitionerRole) -> str | None:
    reference = role.practitioner.reference if role.practitioner else None
    if not reference:
        return None
    kind, _, identifier = str(reference).split("/_history/")[0].rstrip("/").rpartition("/")
    return identifier if kind.endswith("Practitioner") and identifier else None


async def _practitioner(client: FhirClient, practitioner_id: str) -> FhirUser:
    resource = expect_type(await client.read("Practitioner", practitioner_id), Practitioner)
    return FhirUser(name=human_name(resource.name), email=email_of(resource.telecom))


async def _from_role(client: FhirClient, role_id: str) -> FhirUser:
    role = expect_type(await client.read("PractitionerRole", role_id), PractitionerRole)
    display = role.practitioner.display if role.practitioner else None
    user = FhirUser(name=str(display).strip() if display else None, email=email_of(role.telecom))
    practitioner_id = _practitioner_id(role)
    if (user.name and user.email) or practitioner_id is None:
        return user
    try:
        person = await _practitioner(client, practitioner_id)
    except FhirError:
        # The role alone still says something; what the Practitioner would add is optional.
        return user
    return FhirUser(name=user.name or person.name, email=user.email or person.email)


async def read_user(client: FhirClient, reference: str | None) -> FhirUser | FhirError | None:
    """The person ``reference`` (``Practitioner/1`` or ``PractitionerRole/2``) names.

    None when there is no reference or it is not a clinician's type; the read's
    :class:`FhirError` as a value when the EHR would not give it (so a launch goes on).
    """
    if not reference:
        return None
    resource_type, _, resource_id = reference.partition("/")
    if resource_type not in USER_TYPES or not resource_id:
        return None
    try:
        if resource_type == "Practitioner":
            user = await _practitioner(client, resource_id)
        else:
            user = await _from_role(client, resource_id)
    except FhirError as error:
        return error
    if user.name is None and user.email is None:
        return FhirInvalidResponseError(f"the {resource_type} names no person")
    return user
