"""The vocabulary of improvement work: its kinds and its status workflow.

The main line is proposed -> approved -> in_progress -> live -> measured. Proposed, approved
and in-progress work can be declined (with the reason, which the timeline keeps); declined
work can be proposed again. From approved on an improvement has its owners: a clinical lead
and an operational lead (the dyad that answers for it), and going live needs the go-live date
and the reply that tells every linked reporter what changed.

Stored as short strings (as the flag's vocabulary, app/flags/models.py): adding a value is a
code change, not a migration.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    EHR_BUILD = "ehr_build"
    DECISION_SUPPORT = "decision_support"
    EDUCATION = "education"
    PROTOCOL = "protocol"
    CONTRACT = "contract"
    OTHER = "other"


KIND_LABELS: dict[Kind, str] = {
    Kind.EHR_BUILD: "EHR build or order-set change",
    Kind.DECISION_SUPPORT: "Decision support",
    Kind.EDUCATION: "Education",
    Kind.PROTOCOL: "Protocol or policy",
    Kind.CONTRACT: "Contract or payer",
    Kind.OTHER: "Other",
}

# Kinds whose work is done by the informatics team: approving one sends it a change request.
ROUTED_TO_INFORMATICS: frozenset[Kind] = frozenset({Kind.EHR_BUILD})


class ImprovementStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    LIVE = "live"
    MEASURED = "measured"
    DECLINED = "declined"


STATUS_LABELS: dict[ImprovementStatus, str] = {
    ImprovementStatus.PROPOSED: "Proposed",
    ImprovementStatus.APPROVED: "Approved",
    ImprovementStatus.IN_PROGRESS: "In progress",
    ImprovementStatus.LIVE: "Live",
    ImprovementStatus.MEASURED: "Measured",
    ImprovementStatus.DECLINED: "Declined",
}

ALLOWED_TRANSITIONS: dict[ImprovementStatus, frozenset[ImprovementStatus]] = {
    ImprovementStatus.PROPOSED: frozenset({ImprovementStatus.APPROVED, ImprovementStatus.DECLINED}),
    ImprovementStatus.APPROVED: frozenset(
        {ImprovementStatus.IN_PROGRESS, ImprovementStatus.LIVE, ImprovementStatus.DECLINED}
    ),
    ImprovementStatus.IN_PROGRESS: frozenset({ImprovementStatus.LIVE, ImprovementStatus.DECLINED}),
    ImprovementStatus.LIVE: frozenset({ImprovementStatus.MEASURED}),
    ImprovementStatus.MEASURED: frozenset(),
    ImprovementStatus.DECLINED: frozenset({ImprovementStatus.PROPOSED}),
}

# From approved on, someone answers for the work.
OWNERS_REQUIRED: frozenset[ImprovementStatus] = frozenset(
    {
        ImprovementStatus.APPROVED,
        ImprovementStatus.IN_PROGRESS,
        ImprovementStatus.LIVE,
        ImprovementStatus.MEASURED,
    }
)

# The change is in the EHR (or the clinic): its effect can be measured from the go-live date.
WENT_LIVE: frozenset[ImprovementStatus] = frozenset(
    {ImprovementStatus.LIVE, ImprovementStatus.MEASURED}
)


def allowed_from(status: ImprovementStatus) -> list[ImprovementStatus]:
    """The statuses an improvement in ``status`` may move to, in a stable order for messages."""
    return sorted(ALLOWED_TRANSITIONS[status], key=list(ImprovementStatus).index)
