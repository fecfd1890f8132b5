"""A flag's owners are people in the staff directory: who may be given a flag, and who owns
the flags a reader is about to see.

Assignment names staff ids; each must be a known, active person, or the whole change is
refused with a 422 that names the field and the person. Readers get the owners of a page of
flags in one query (:func:`people_for`); a notification gets the people a flag was just
assigned to with :func:`owners_of`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.flags.errors import OwnerNotAssignable
from app.flags.models import Flag
from app.flags.schemas import OwnerIn
from app.staff.models import Staff
from app.staff.repository import staff_by_ids

People = Mapping[uuid.UUID, Staff]


@dataclass(frozen=True)
class CheckedOwner:
    """An ``OwnerIn`` whose people all exist and are active: one lead, or a dyad."""

    lead: Staff
    operational_lead: Staff | None

    @property
    def people(self) -> list[Staff]:
        return [self.lead] if self.operational_lead is None else [self.lead, self.operational_lead]


def _fields(owner: OwnerIn) -> list[tuple[str, uuid.UUID]]:
    if owner.lead is not None:
        return [("lead", owner.lead)]
    if owner.clinical_lead is None or owner.operational_lead is None:
        raise ValueError("OwnerIn checks that a dyad has both members")
    return [("clinical_lead", owner.clinical_lead), ("operational_lead", owner.operational_lead)]


async def checked(session: AsyncSession, owner: OwnerIn) -> CheckedOwner:
    """The people ``owner`` names, each known and active; OwnerNotAssignable otherwise."""
    fields = _fields(owner)
    found = await staff_by_ids(session, [staff_id for _, staff_id in fields])
    refusals: list[dict[str, str]] = []
    for field, staff_id in fields:
        person = found.get(staff_id)
        if person is None:
            refusals.append(
                {
                    "field": field,
                    "id": str(staff_id),
                    "detail": f"'{field}' names nobody in the staff directory ({staff_id}).",
                }
            )
        elif not person.active:
            refusals.append(
                {
                    "field": field,
                    "id": str(staff_id),
                    "detail": f"'{field}': {person.name} is deactivated and cannot own flags; "
                    "choose someone active, or ask an admin to reactivate them.",
                }
            )
    if refusals:
        raise OwnerNotAssignable(
            " ".join(refusal["detail"] for refusal in refusals), refusals=refusals
        )
    people = [found[staff_id] for _, staff_id in fields]
    return CheckedOwner(lead=people[0], operational_lead=people[1] if len(people) > 1 else None)


def owner_ids(flag: Flag) -> list[uuid.UUID]:
    return [
        staff_id
        for staff_id in (flag.owner_lead_id, flag.owner_operational_lead_id)
        if staff_id is not None
    ]


async def people_for(session: AsyncSession, flags: Iterable[Flag]) -> People:
    """The owners of ``flags``, by id, in one query."""
    return await staff_by_ids(session, [staff_id for flag in flags for staff_id in owner_ids(flag)])


async def owners_of(session: AsyncSession, flag: Flag) -> list[Staff]:
    """The people who own ``flag`` (lead first), e.g. to tell them it was assigned to them."""
    people = await staff_by_ids(session, owner_ids(flag))
    return [people[staff_id] for staff_id in owner_ids(flag) if staff_id in people]
