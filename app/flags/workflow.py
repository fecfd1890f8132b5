"""The flag status workflow: which moves are legal and what each move needs.

The main line is submitted -> triaged -> accepted -> action_taken -> closed. From triaged or
accepted a flag can also go to needs_info (a question to the reporter), not_low_value or
duplicate. The end states (closed, not_low_value, duplicate) can be reopened to triaged, and a
flag waiting on the reporter goes back to triaged or on to accepted.

Closing the loop is a rule, not a habit: every move that ends the review or asks the reporter
something carries a reply to the reporter in the same call ("you said, we did").
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    SUBMITTED = "submitted"
    TRIAGED = "triaged"
    ACCEPTED = "accepted"
    ACTION_TAKEN = "action_taken"
    CLOSED = "closed"
    NEEDS_INFO = "needs_info"
    NOT_LOW_VALUE = "not_low_value"
    DUPLICATE = "duplicate"


STATUS_LABELS: dict[Status, str] = {
    Status.SUBMITTED: "New",
    Status.TRIAGED: "Triaged",
    Status.ACCEPTED: "Accepted",
    Status.ACTION_TAKEN: "Action taken",
    Status.CLOSED: "Closed",
    Status.NEEDS_INFO: "Needs info",
    Status.NOT_LOW_VALUE: "Not low-value",
    Status.DUPLICATE: "Duplicate",
}

ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.SUBMITTED: frozenset({Status.TRIAGED}),
    Status.TRIAGED: frozenset(
        {Status.ACCEPTED, Status.NEEDS_INFO, Status.NOT_LOW_VALUE, Status.DUPLICATE}
    ),
    Status.ACCEPTED: frozenset(
        {Status.ACTION_TAKEN, Status.NEEDS_INFO, Status.NOT_LOW_VALUE, Status.DUPLICATE}
    ),
    Status.NEEDS_INFO: frozenset({Status.TRIAGED, Status.ACCEPTED}),
    Status.ACTION_TAKEN: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset({Status.TRIAGED}),
    Status.NOT_LOW_VALUE: frozenset({Status.TRIAGED}),
    Status.DUPLICATE: frozenset({Status.TRIAGED}),
}

# Moves that end the review or ask the reporter a question must say something to the reporter.
REPLY_REQUIRED: frozenset[Status] = frozenset(
    {Status.CLOSED, Status.NOT_LOW_VALUE, Status.DUPLICATE, Status.NEEDS_INFO}
)

# A flag in these states has an accountable owner.
OWNER_REQUIRED: frozenset[Status] = frozenset({Status.ACCEPTED})

END_STATES: frozenset[Status] = frozenset({Status.CLOSED, Status.NOT_LOW_VALUE, Status.DUPLICATE})


def allowed_from(status: Status) -> list[Status]:
    """The statuses a flag in ``status`` may move to, in a stable order for messages."""
    return sorted(ALLOWED_TRANSITIONS[status], key=list(Status).index)


def is_allowed(current: Status, target: Status) -> bool:
    return target in ALLOWED_TRANSITIONS[current]
