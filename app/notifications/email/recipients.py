"""Who an email can go to: a flag's reporter, its owners, the active leads.

The one place that knows where addresses live (the flag's reporter email, the staff
directory); planning asks here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.flags.anonymity import identity_kept, reporter_email_for_notice
from app.flags.models import Flag
from app.flags.owners import owners_of
from app.notifications.email import repository
from app.staff.models import Staff


@dataclass(frozen=True)
class StaffRecipient:
    """A staff member an email can go to."""

    staff_id: str
    email: str


class Directory(Protocol):
    """Where addresses come from."""

    def reporter_email(self, flag: Flag) -> str | None:
        """The reporter's address as stored on the flag, if the EHR gave one."""
        ...

    async def owners(self, session: AsyncSession, flag: Flag) -> list[StaffRecipient]:
        """The flag's owners (a lead, or both of a dyad) who are active and have an email."""
        ...

    async def active_leads(self, session: AsyncSession) -> list[StaffRecipient]:
        """Every active staff member with the lead role and an email."""
        ...


def _reachable(people: list[Staff]) -> list[StaffRecipient]:
    """Active people with an address (records kept from free-text owners have none)."""
    return [
        StaffRecipient(staff_id=str(person.id), email=person.email)
        for person in people
        if person.active and person.email
    ]


class StaffDirectory:
    """The staff directory (app/staff) and the reporter's address kept on the flag."""

    def reporter_email(self, flag: Flag) -> str | None:
        return reporter_email_for_notice(flag)

    async def owners(self, session: AsyncSession, flag: Flag) -> list[StaffRecipient]:
        return _reachable(await owners_of(session, flag))

    async def active_leads(self, session: AsyncSession) -> list[StaffRecipient]:
        return _reachable(await repository.staff_with_role(session, Role.LEAD))


STAFF_DIRECTORY: Directory = StaffDirectory()


def reporter_address(flag: Flag, directory: Directory) -> str | None:
    """The reporter's email, for identified and confidential reporters who have one.

    An anonymous reporter's identity is not kept (app/flags/anonymity.py): they follow their
    flag with the receipt and get no email.
    """
    if not identity_kept(flag.anonymity):
        return None
    return directory.reporter_email(flag) or None
