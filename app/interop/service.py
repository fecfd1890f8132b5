"""The FHIR view's reads: one flag with what its resources need (the flag, 404 like every flag
endpoint; its timeline and owners, through the registry's own functions), and the published
CodeSystems."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codesystem import CodeSystem
from sqlalchemy.ext.asyncio import AsyncSession

from app.flags import owners
from app.flags import service as flags
from app.flags.models import Flag
from app.interop.bundle import flag_bundle
from app.interop.codesystems import CodeSystemId, code_system
from app.interop.errors import CodeSystemNotFound


@dataclass(frozen=True)
class FlagAsFhir:
    flag: Flag  # for the audit record (id, issuer)
    bundle: Bundle


async def flag_as_fhir(session: AsyncSession, flag_id: uuid.UUID, *, base_url: str) -> FlagAsFhir:
    """One flag's resources as a Bundle; FlagNotFound for an unknown id."""
    flag = await flags.get_flag(session, flag_id)
    events = await flags.timeline(session, flag)
    people = await owners.people_for(session, [flag])
    return FlagAsFhir(flag=flag, bundle=flag_bundle(base_url, flag, events, people))


def published_code_system(code_system_id: str, *, base_url: str) -> CodeSystem:
    """A CodeSystem ValueLoop publishes; CodeSystemNotFound for any other id."""
    if code_system_id not in set(CodeSystemId):
        known = ", ".join(CodeSystemId)
        raise CodeSystemNotFound(
            f"ValueLoop publishes no code system {code_system_id!r}; it publishes: {known}."
        )
    return code_system(base_url, CodeSystemId(code_system_id))
