"""CDS Hooks 2.0 feedback: what clinicians did with the cards (accepted, or overridden with a
reason), checked against the cards we gave and stored for the quality team."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.cds import repository
from app.cds.cards import OVERRIDE_REASONS
from app.cds.catches import record_catch
from app.cds.counts import count_outcomes
from app.cds.errors import UnknownCard, UnusableFeedback
from app.cds.models import IssuedCard
from app.cds.schemas import FeedbackItem, FeedbackRequest
from app.cds.service import definition
from app.config import Settings

_REASONS = {(reason.system, reason.code): reason for reason in OVERRIDE_REASONS}


def _checked(item: FeedbackItem, suggestion_id: object) -> tuple[bool, str | None, str | None]:
    """(accepted the suggestion, override code, its display) once ``item`` makes sense."""
    accepted = [suggestion.id for suggestion in item.acceptedSuggestions]
    if any(found != suggestion_id for found in accepted):
        raise UnusableFeedback(f"Feedback on card {item.card} names a suggestion it did not offer.")
    reason = item.overrideReason.reason if item.overrideReason else None
    if item.outcome == "accepted":
        if item.overrideReason is not None:
            raise UnusableFeedback(f"Card {item.card} was accepted: it has no override reason.")
        return bool(accepted), None, None
    if accepted:
        raise UnusableFeedback(f"Card {item.card} was overridden: no suggestion was accepted.")
    if reason is None:
        return False, None, None
    known = _REASONS.get((reason.system, reason.code))
    if known is None:
        raise UnusableFeedback(
            f"Override reason {reason.system}|{reason.code} is not one the card offered."
        )
    return False, known.code, known.display


async def record(
    session: AsyncSession,
    service_id: str,
    request: FeedbackRequest,
    *,
    client_iss: str,
    now: datetime,
    settings: Settings,
) -> int:
    """Store each outcome (all or none); how many were new (a repeat is stored once). An
    accepted suggestion becomes a "caught before" flag in the registry (once per card). Each
    card's first outcome is added to the daily counts (app/cds/counts.py), once per card.

    Outcomes are taken card by card, earliest first: the earliest counts, and two batches
    naming the same cards lock them in the same order (no deadlock between them).
    """
    definition(service_id)
    stored = 0
    counted: list[tuple[IssuedCard, str]] = []
    for item in sorted(request.feedback, key=lambda item: (item.card, item.outcomeTimestamp)):
        card = await repository.issued_card(session, item.card)
        # Another client's card is as unknown as one never given: nothing about it leaks.
        if card is None or card.client_iss != client_iss or card.service_id != service_id:
            raise UnknownCard(f"Service {service_id} gave this client no card {item.card}.")
        accepted, code, display = _checked(item, card.suggestion_id)
        comment = item.overrideReason.userComment if item.overrideReason else None
        first = await repository.claim_feedback_count(session, card.id)
        flag_id = await record_catch(session, card, settings=settings) if accepted else None
        stored += await repository.add_feedback(
            session,
            {
                "card_id": card.id,
                "outcome": item.outcome,
                "accepted_suggestion": accepted,
                "override_code": code,
                "override_display": display,
                "user_comment": comment,
                "outcome_at": item.outcomeTimestamp,
                "received_at": now,
                "flag_id": flag_id,
                "counted": first,
            },
        )
        if first:
            counted.append((card, item.outcome))
    await count_outcomes(session, counted)
    return stored
