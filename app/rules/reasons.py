"""Which registry reason a low-value rule stands for: the reason a "caught before" flag
carries, and the one the in-EHR flag form preselects on an order the rule marks."""

from __future__ import annotations

from app.flags.catalog import Reason

# Rules about repeating a recent test; every other rule is about an order with no indication
# for this patient.
_REPEAT_RULES = frozenset({"dxa-repeat-within-two-years"})


def reason_for(rule_id: str) -> Reason:
    return Reason.REPEAT_DUPLICATE if rule_id in _REPEAT_RULES else Reason.NOT_INDICATED
