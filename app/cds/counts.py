"""The CDS services' daily counts per rule and order code (issue #15): draft orders evaluated,
cards shown, accepted and overridden. Counts only, never a patient: the measure of whether a
later change to an order set worked.

What counts as what:

- **evaluated**: a rule whose order clause matched the draft order's code (its resource type,
  and a code of its code set in force on the order's date). The rule was then judged on that
  order, whatever came of it: low-value, exempted, outside the age limits, or undecided. An
  order no rule is about is evaluated by no rule, and counts nowhere. The code counted is the
  one the rule matched (an order may carry several codings).
- **shown**: a card given (always also an evaluation).
- **accepted** / **overridden**: the first outcome reported for a card, once per card, counted
  on the day the card was shown: a day's acceptance is about that day's cards, and accepted +
  overridden never exceed shown. Later outcomes for the same card are stored, not counted.

Each hook call and each feedback call adds its counts in one statement, in the call's own
transaction (``repository.add_counts``).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

import lowvalue
from app.cds import repository
from app.cds.models import CODE_MAX_LENGTH, IssuedCard

__all__ = ["OrderCode", "count_call", "count_outcomes", "order_codes"]

OrderCode = tuple[str, str]
"""A code's system (the FHIR URI) and the code as the order carried it."""

# organization, day, service, rule, code system, code
_Key = tuple[uuid.UUID, date, str, str, str, str]


def order_codes(decisions: Sequence[lowvalue.Decision]) -> list[OrderCode | None]:
    """For each decision, the order code its rule's order clause matched (in force on the
    order's date); None where the rule is not about the order (no evaluation to count)."""
    found: list[OrderCode | None] = []
    for decision in decisions:
        match = decision.order_match
        if match is None:
            found.append(None)
            continue
        found.append((lowvalue.SYSTEMS[match.entry.system], match.code[:CODE_MAX_LENGTH]))
    return found


async def count_call(
    session: AsyncSession,
    organization_id: uuid.UUID,
    service_id: str,
    day: date,
    decisions: Sequence[lowvalue.Decision],
    codes: Sequence[OrderCode | None],
) -> None:
    """Add a hook call's evaluations and cards shown to ``day``'s counts of the calling
    client's organization (one statement)."""
    evaluated: Counter[_Key] = Counter()
    shown: Counter[_Key] = Counter()
    for decision, code in zip(decisions, codes, strict=True):
        if code is None:
            continue
        key = (organization_id, day, service_id, decision.rule_id, *code)
        evaluated[key] += 1
        if decision.outcome is lowvalue.Outcome.LOW_VALUE:
            shown[key] += 1
    await repository.add_counts(
        session,
        [_row(key, evaluated=count, shown=shown[key]) for key, count in sorted(evaluated.items())],
    )


async def count_outcomes(session: AsyncSession, counted: Sequence[tuple[IssuedCard, str]]) -> None:
    """Add the outcomes claimed for counting (``repository.claim_feedback_count``), each on its
    card's day and order code (one statement)."""
    outcomes: Counter[tuple[_Key, str]] = Counter()
    for card, outcome in counted:
        if card.order_code_system is None or card.order_code is None:
            continue
        day = card.issued_at.date()
        key = (
            card.organization_id,
            day,
            card.service_id,
            card.rule_id,
            card.order_code_system,
            card.order_code,
        )
        outcomes[key, outcome] += 1
    keys = sorted({key for key, _ in outcomes})
    await repository.add_counts(
        session,
        [
            _row(
                key,
                accepted=outcomes[key, "accepted"],
                overridden=outcomes[key, "overridden"],
            )
            for key in keys
        ],
    )


def _row(key: _Key, **counters: int) -> dict[str, object]:
    organization_id, day, service_id, rule_id, system, code = key
    return {
        "organization_id": organization_id,
        "day": day,
        "service_id": service_id,
        "rule_id": rule_id,
        "order_code_system": system,
        "order_code": code,
        "evaluated": counters.get("evaluated", 0),
        "shown": counters.get("shown", 0),
        "accepted": counters.get("accepted", 0),
        "overridden": counters.get("overridden", 0),
    }
