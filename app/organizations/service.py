"""Adding, renaming and finding organizations by the code people type."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.time import utcnow
from app.organizations import repository
from app.organizations.errors import (
    InvalidOrganizationCode,
    InvalidVariantChoice,
    OrganizationCodeTaken,
    UnknownOrganization,
)
from app.organizations.models import CODE_MAX_LENGTH, NAME_MAX_LENGTH, Organization
from app.rules import variants

# Lower-case letters, digits and hyphens: safe in a URL, a file name and a CSV cell as it is.
_CODE = re.compile(rf"[a-z0-9](?:[a-z0-9-]{{0,{CODE_MAX_LENGTH - 2}}}[a-z0-9])?")


def checked_code(code: str) -> str:
    normalized = code.strip().lower()
    if not _CODE.fullmatch(normalized):
        raise InvalidOrganizationCode(
            f"{code!r} is not an organization code: use 1 to {CODE_MAX_LENGTH} lower-case "
            "letters, digits and inner hyphens, such as 'mercy-hospital'."
        )
    return normalized


def _checked_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > NAME_MAX_LENGTH:
        raise InvalidOrganizationCode(
            f"An organization's name has 1 to {NAME_MAX_LENGTH} characters."
        )
    return cleaned


async def add(session: AsyncSession, code: str, *, name: str) -> Organization:
    code = checked_code(code)
    if await repository.by_code(session, code) is not None:
        raise OrganizationCodeTaken(f"There is already an organization with the code {code!r}.")
    organization = Organization(code=code, name=_checked_name(name), created_at=utcnow())
    repository.add(session, organization)
    return organization


async def rename(session: AsyncSession, code: str, *, name: str) -> Organization:
    organization = await by_code(session, code)
    organization.name = _checked_name(name)
    repository.add(session, organization)
    return organization


async def choose_variants(
    session: AsyncSession, code: str, choices: Mapping[str, str] | None
) -> Organization:
    """Set the organization's CDS rule variants (checked against the catalog); None: the
    installation's again."""
    organization = await by_code(session, code)
    try:
        checked = None if choices is None else variants.checked(choices)
        organization.cds_rule_variants = None if checked is None else dict(checked)
    except variants.UnknownVariant as exc:
        raise InvalidVariantChoice(str(exc)) from exc
    repository.add(session, organization)
    return organization


async def by_code(session: AsyncSession, code: str) -> Organization:
    """The organization ``code`` names; an unknown code is a clear error listing the known."""
    organization = await repository.by_code(session, code.strip().lower())
    if organization is None:
        known = ", ".join(o.code for o in await repository.everyone(session))
        raise UnknownOrganization(f"No organization has the code {code!r}; known: {known}.")
    return organization


async def id_of(session: AsyncSession, code: str | None) -> uuid.UUID | None:
    """The id of the organization ``code`` names; None for None (the system level)."""
    return None if code is None else (await by_code(session, code)).id


async def everyone(session: AsyncSession) -> Sequence[Organization]:
    return await repository.everyone(session)


async def names_by_id(session: AsyncSession) -> dict[uuid.UUID, Organization]:
    return {organization.id: organization for organization in await repository.everyone(session)}


async def visible_to(
    session: AsyncSession, organization_id: uuid.UUID | None
) -> Sequence[Organization]:
    """Every organization for the system level (None); an organization's staff, their own."""
    if organization_id is None:
        return await repository.everyone(session)
    own = await repository.by_id(session, organization_id)
    return [own] if own is not None else []
