"""An improvement's evidence: what its linked flags say, counted, without patient data.

The same evidence is the improvement's page and the body of the change request sent to the
informatics team (app/improvements/routing.py): how many flags, the estimated cost of their
orders, their reasons, suspected drivers and departments, and reporter notes only where the
person who linked the flag marked the note shareable (checked for patient and clinician data,
app/flags/shareable.py). Never a patient id, an order id, a reporter or a date of care.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.flags.costs import cents_to_amount
from app.improvements import repository
from app.improvements.models import Improvement
from app.improvements.schemas import Count, Evidence


async def evidence(session: AsyncSession, improvement: Improvement) -> Evidence:
    stake = (await repository.at_stake(session, [improvement.id])).get(
        improvement.id, repository.AtStake()
    )

    reasons, drivers, departments = [
        [
            Count(value=value, count=count)
            for value, count in await repository.linked_counts(session, improvement.id, name)
        ]
        for name in ("reason", "driver", "department")
    ]
    return Evidence(
        flag_count=stake.flags,
        cost_at_stake=cents_to_amount(stake.cost_cents),
        reasons=reasons,
        drivers=drivers,
        departments=departments,
        example_notes=await repository.shareable_notes(session, improvement.id),
    )
