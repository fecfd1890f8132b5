"""The catalog as the API shows it: every controlled value with its label, and the workflow;
and the free-text values flags carry (departments, services), as filter choices.

Clients (the dashboard, exports' readers) take labels from here instead of keeping their own
copies, so a label changes in one place.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.flags import repository
from app.flags.catalog import (
    DRIVER_LABELS,
    PRIORITY_LABELS,
    REASON_DESCRIPTIONS,
    REASON_LABELS,
    REPORTER_ROLE_LABELS,
)
from app.flags.schemas import (
    Catalog,
    CatalogEntry,
    FilterOption,
    FilterOptions,
    StatusEntry,
)
from app.flags.workflow import (
    END_STATES,
    OWNER_REQUIRED,
    REPLY_REQUIRED,
    STATUS_LABELS,
    allowed_from,
)


def catalog() -> Catalog:
    return Catalog(
        reasons=[
            CatalogEntry(value=reason, label=label, description=REASON_DESCRIPTIONS[reason])
            for reason, label in REASON_LABELS.items()
        ],
        drivers=[CatalogEntry(value=value, label=label) for value, label in DRIVER_LABELS.items()],
        statuses=[
            StatusEntry(
                value=status,
                label=label,
                allowed_transitions=allowed_from(status),
                reply_required=status in REPLY_REQUIRED,
                owner_required=status in OWNER_REQUIRED,
                end_state=status in END_STATES,
            )
            for status, label in STATUS_LABELS.items()
        ],
        reporter_roles=[
            CatalogEntry(value=value, label=label) for value, label in REPORTER_ROLE_LABELS.items()
        ],
        priorities=[
            CatalogEntry(value=value, label=label) for value, label in PRIORITY_LABELS.items()
        ],
    )


MAX_FILTER_OPTIONS = 1000


async def filter_options(session: AsyncSession) -> FilterOptions:
    departments = await repository.distinct_departments(session, limit=MAX_FILTER_OPTIONS)
    services = await repository.distinct_services(session, limit=MAX_FILTER_OPTIONS)
    return FilterOptions(
        departments=[FilterOption(value=name, label=name) for name in departments],
        services=sorted(
            (
                FilterOption(
                    value=f"{system}|{code}" if system else code, label=f"{display} ({code})"
                )
                for code, system, display in services
            ),
            key=lambda option: option.label.casefold(),
        ),
    )
