"""The staff directory's rules: one person per email (stored lower-case), deactivation instead
of deletion, and who may own a flag.

Functions here change the session's objects and flush; they never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.kit.pagination import Cursor, InvalidCursor
from app.kit.time import utcnow
from app.organizations import service as organizations
from app.staff import repository
from app.staff.errors import NoValueLoopRole, StaffDeactivated, StaffEmailTaken, StaffNotFound
from app.staff.models import Staff
from app.staff.schemas import StaffCreate, StaffUpdate

_SORT = "name"


def normalize_email(email: str) -> str:
    """The stored form of an address: trimmed and lower-case. Strictly the local part may be
    case-sensitive (RFC 5321 section 2.4), but no mail system people use treats it so, and
    two records for one person would split their history."""
    return email.strip().lower()


async def get(session: AsyncSession, staff_id: uuid.UUID) -> Staff:
    person = await repository.by_id(session, staff_id)
    if person is None:
        raise StaffNotFound(f"No staff member with id {staff_id}.")
    return person


async def by_email(session: AsyncSession, email: str) -> Staff:
    person = await repository.by_email(session, normalize_email(email))
    if person is None:
        raise StaffNotFound(
            f"Nobody with the email {normalize_email(email)!r} is in the staff directory "
            "(`valueloop staff list`)."
        )
    return person


def _taken(email: str | None) -> StaffEmailTaken:
    return StaffEmailTaken(
        f"{email!r} already belongs to someone in the staff directory; find them with "
        "GET /api/v1/staff?q=<email> and change that record instead."
    )


async def add(session: AsyncSession, data: StaffCreate) -> Staff:
    """A new, active person. 409 when the email is already in the directory."""
    email = normalize_email(data.email)
    await _email_free(session, email, for_id=None)
    person = Staff(
        name=data.name,
        email=email,
        role=data.role,
        active=True,
        created_at=utcnow(),
        organization_id=await organizations.id_of(session, data.organization),
    )
    if not await repository.save(session, person):  # taken meanwhile, by a concurrent add
        raise _taken(email)
    return person


async def _may_join_just_in_time(session: AsyncSession) -> None:
    """A person new to the directory joins at the system level, which sees every
    organization's flags: where several organizations share the registry an admin must add
    them first, with their organization."""
    if len(await organizations.everyone(session)) > 1:
        raise NoValueLoopRole(
            "You are not in the ValueLoop staff directory yet, and several organizations share "
            "this registry. Ask a ValueLoop administrator to add you with your organization "
            "(`valueloop staff add EMAIL --org CODE`)."
        )


async def _saved(
    session: AsyncSession, person: Staff, email: str | None, identity: Identity, role: Role
) -> bool:
    """The person as the provider describes them now, written."""
    person.name, person.role = identity.name, role
    person.oidc_issuer, person.oidc_subject = identity.issuer, identity.subject
    if email is not None:
        person.email = email
    return await repository.save(session, person)


async def _email_free(session: AsyncSession, email: str, *, for_id: uuid.UUID | None) -> None:
    """Refuse an email someone else in the directory has (checked first, so the usual case
    never reaches the unique constraint, which stays the guard against races)."""
    holder = await repository.by_email(session, email)
    if holder is not None and holder.id != for_id:
        raise _taken(email)


async def update(session: AsyncSession, staff_id: uuid.UUID, change: StaffUpdate) -> Staff:
    """Rename, readdress, change role, deactivate or reactivate. Deactivating stops the
    person's sign-ins, sessions and tokens at their next request; nothing is deleted."""
    person = await get(session, staff_id)
    email = normalize_email(change.email) if change.email is not None else person.email
    if email is not None:
        await _email_free(session, email, for_id=person.id)
    if change.name is not None:
        person.name = change.name
    person.email = email
    if change.role is not None:
        person.role = change.role
    if change.active is not None and change.active != person.active:
        person.active = change.active
        person.deactivated_at = None if change.active else utcnow()
    if not await repository.save(session, person):
        raise _taken(email)
    return person


async def set_active(session: AsyncSession, email: str, *, active: bool) -> Staff:
    person = await by_email(session, email)
    return await update(session, person.id, StaffUpdate(active=active))


@dataclass(frozen=True)
class Page:
    people: Sequence[Staff]
    next_cursor: str | None


async def page(
    session: AsyncSession,
    *,
    prefix: str | None,
    active: bool | None,
    role: Role | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """One page of the directory in name order, and the cursor of the page after it."""
    after_values: list[object] | None = None
    if cursor is not None:
        name, staff_id = Cursor.decode(cursor, expected_sort=_SORT, arity=2).values
        try:
            after_values = [str(name), uuid.UUID(str(staff_id))]
        except ValueError as exc:
            raise InvalidCursor("The cursor is damaged. Start again from the first page.") from exc
    rows = await repository.page(
        session,
        prefix=prefix,
        active=active,
        role=role.value if role else None,
        limit=limit + 1,
        after_values=after_values,
    )
    people = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = people[-1]
        next_cursor = Cursor(sort=_SORT, values=[last.name, str(last.id)]).encode()
    return Page(people=people, next_cursor=next_cursor)


async def everyone(session: AsyncSession) -> Sequence[Staff]:
    return await repository.everyone(session)


@dataclass(frozen=True)
class Identity:
    """Who the identity provider says signed in (from the verified id_token)."""

    issuer: str
    subject: str
    name: str
    email: str | None
    email_verified: bool | None


async def just_in_time(session: AsyncSession, identity: Identity, role: Role) -> Staff:
    """The person an OpenID Connect sign-in is, created on their first sign-in and updated
    (name, email, role from the provider) on every later one.

    Found by issuer + subject (OpenID Connect Core 1.0 section 5.7: the only claims that
    identify a user stably). A person an admin added beforehand (by email, not yet linked) is
    linked on their first sign-in, unless the provider says the address is unverified. A
    deactivated person is refused: the provider vouches for who they are, not that they may
    use ValueLoop.
    """
    person = await repository.by_oidc_subject(session, identity.issuer, identity.subject)
    email = normalize_email(identity.email) if identity.email else None
    if person is None and email is not None and identity.email_verified is not False:
        unlinked = await repository.by_email(session, email)
        if unlinked is not None and unlinked.oidc_subject is None:
            person = unlinked
    if person is not None and not person.active:
        when = f" on {person.deactivated_at:%Y-%m-%d}" if person.deactivated_at else ""
        raise StaffDeactivated(
            f"Your ValueLoop account ({person.name}) was deactivated{when}, so you cannot sign "
            "in. Ask a ValueLoop administrator to reactivate it if this is a mistake."
        )
    if person is None:
        await _may_join_just_in_time(session)
        person = Staff(role=role, active=True, created_at=utcnow(), name=identity.name)
    # Checked before anything changes: the callback commits even when sign-in is refused.
    holder = await repository.by_email(session, email) if email is not None else None
    if (holder is not None and holder.id != person.id) or not await _saved(
        session, person, email, identity, role
    ):
        raise StaffEmailTaken(
            f"The email {email!r} from your organisation's account already belongs to another "
            "person in the ValueLoop staff directory. Ask a ValueLoop administrator to fix the "
            "directory."
        )
    return person
