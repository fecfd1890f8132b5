"""What happened to our flags: the in-EHR view of the last 90 days, for the launch's
organization and for the whole system.

Trust across organizations starts with transparency: a clinician sees what the flags of their
organization (and everyone's) led to, beside their own flags. Counts, actions and the
shareable "you said, we did" replies only: no patient data, no money, no clinician named or
ranked, and small cells suppressed (``app.reports``, the same numbers as the report).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.clinician.service import organization_of_launch
from app.kit.time import utcnow
from app.launch.models import AppSession
from app.reports import transparency
from app.reports.schemas import TransparencySummary

DAYS = 90


class Outcomes(BaseModel):
    organization: TransparencySummary = Field(
        description="The flags of the organization whose EHR launched ValueLoop."
    )
    system: TransparencySummary = Field(description="Every organization's flags together.")


async def outcomes(session: AsyncSession, app_session: AppSession) -> Outcomes:
    """The last ``DAYS`` days (UTC, today included) for the launch's organization and all."""
    today = utcnow().date()
    period = transparency.Period(date_from=today - timedelta(days=DAYS - 1), date_to=today)
    organization_id = await organization_of_launch(session, app_session)
    return Outcomes(
        organization=await transparency.summary(session, period, organization_id),
        system=await transparency.summary(session, period, None, reader=organization_id),
    )
