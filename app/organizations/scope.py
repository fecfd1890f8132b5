"""Which organizations' flags a caller may see, enforced in one place: the database session.

Staff of an organization list, read, work and export only their organization's flags; a flag
of another organization must look exactly like one that does not exist. Rather than trusting
every query (the list, a flag by id, bulk changes, statistics, exports, the FHIR views, ...)
to remember a WHERE clause, the caller's scope is bound to the session it uses, and every
ORM statement that reads or changes ``flag`` rows on that session gets the organization
criterion added (and ``staff`` rows: an organization's staff find only their own people and
the system level's) by SQLAlchemy (``with_loader_criteria``: it reaches the flag in joins,
subqueries and column-only selects, and ``session.get``). A query written tomorrow is scoped
without knowing it.

SQLAlchemy adds such criteria only to ORM statements. A Core statement over ``flag`` (one
whose columns are all SQL functions, ``select(func.count().filter(...))``, or raw SQL text)
would pass unscoped, so on a scoped session the hook refuses it with
:class:`UnscopedFlagQuery` (a server error, never another organization's rows): write it with
``.select_from(Flag)``, which makes it an ORM statement. Raw SQL that must run (the loose
index scans of ``app.flags.repository``) reads :func:`scope_of` and runs for the system level
only. Sessions opened outside the request (streamed exports) must :func:`bind` the request's
scope.

The one deliberate way past the scope is :data:`SHARED_TOTALS`: the system-wide aggregates
every organization sees, which only ever leave the server as counts with small cells
suppressed (``app.reports.transparency``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql import visitors

from app.cds.models import CdsDailyCount, IssuedCard
from app.flags.models import Flag
from app.improvements.models import Improvement, ImprovementFlag
from app.staff.models import Staff

_SCOPE_KEY = "valueloop.organization_scope"
# Execution option of the system-wide aggregate queries (see the module docstring).
SHARED_TOTALS = "valueloop_shared_totals"


@dataclass(frozen=True)
class OrganizationScope:
    """``organization_id`` None: system level, every organization's flags."""

    organization_id: uuid.UUID | None

    @property
    def system_level(self) -> bool:
        return self.organization_id is None


SYSTEM_LEVEL = OrganizationScope(organization_id=None)


def bind(session: AsyncSession | Session, scope: OrganizationScope) -> None:
    """Scope every flag query on ``session`` from now on."""
    target = session.sync_session if isinstance(session, AsyncSession) else session
    target.info[_SCOPE_KEY] = scope


def scope_of(session: AsyncSession | Session) -> OrganizationScope:
    """The scope bound to ``session``; unbound sessions (the EHR launch, CDS calls, workers,
    commands) are not a staff member's and see every organization."""
    target = session.sync_session if isinstance(session, AsyncSession) else session
    scope = target.info.get(_SCOPE_KEY)
    return scope if isinstance(scope, OrganizationScope) else SYSTEM_LEVEL


@sa.event.listens_for(Session, "do_orm_execute")
def _limit_to_organization(state: ORMExecuteState) -> None:
    scope = state.session.info.get(_SCOPE_KEY)
    if not isinstance(scope, OrganizationScope) or scope.organization_id is None:
        return
    if state.execution_options.get(SHARED_TOTALS):
        return
    if not _orm_enabled(state.statement) and _reads_scoped_rows(state.statement):
        raise UnscopedFlagQuery(
            "A query over an organization's rows (flags, CDS cards or counts) on a scoped "
            "session is not an ORM statement, so its organization criteria cannot be added; "
            "write it with .select_from(Model)."
        )
    if not (state.is_select or state.is_update or state.is_delete):
        return
    organization_id = scope.organization_id
    state.statement = state.statement.options(
        *(
            with_loader_criteria(
                model,
                lambda row: row.organization_id == organization_id,
                include_aliases=True,
            )
            for model in _ORGANIZATIONS_ROWS
        ),
        # The people they can find and make owners: their organization's and the system's.
        with_loader_criteria(
            Staff,
            lambda person: sa.or_(
                person.organization_id == organization_id, person.organization_id.is_(None)
            ),
            include_aliases=True,
        ),
    )


class UnscopedFlagQuery(RuntimeError):
    """A programming error: see the module docstring."""


# Rows that belong to one organization: flags, the CDS cards and daily counts of its clients'
# calls, and its improvement work with the links to its flags.
_ORGANIZATIONS_ROWS: tuple[type[Any], ...] = (
    Flag,
    IssuedCard,
    CdsDailyCount,
    Improvement,
    ImprovementFlag,
)
_SCOPED_TABLES = frozenset(model.__table__ for model in _ORGANIZATIONS_ROWS)
_SCOPED_WORDS = re.compile(
    r"\b(flag|cds_card|cds_daily_count|improvement|improvement_flag)\b", re.IGNORECASE
)


def _orm_enabled(statement: Any) -> bool:
    return bool(statement._propagate_attrs.get("compile_state_plugin") == "orm")


def _reads_scoped_rows(statement: Any) -> bool:
    if isinstance(statement, sa.TextClause):
        return bool(_SCOPED_WORDS.search(statement.text))
    return any(element in _SCOPED_TABLES for element in visitors.iterate(statement))


def shared_totals_options() -> dict[str, Any]:
    """Execution options of a system-wide aggregate (never rows) read by organization staff."""
    return {SHARED_TOTALS: True}
