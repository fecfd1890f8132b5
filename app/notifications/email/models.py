"""The one table of email notifications: who asked not to get which kind of email."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime

EMAIL_MAX_LENGTH = 320  # RFC 5321 section 4.5.3.1: 64 (local part) + 1 + 255 (domain)


class EmailKind(StrEnum):
    """What a person can opt out of, one kind at a time."""

    # To a reporter: the quality team replied to their flag, or asks them for information.
    REPLY = "reply"
    # To a flag's owner: a flag was assigned to them.
    ASSIGNMENT = "assignment"
    # To a lead, once a day: flags past the reply SLA.
    DIGEST = "digest"


KIND_DESCRIPTIONS: dict[EmailKind, str] = {
    EmailKind.REPLY: "replies and questions from the quality team about flags you raised",
    EmailKind.ASSIGNMENT: "flags assigned to you",
    EmailKind.DIGEST: "the daily digest of flags past the reply time",
}


def normalize_email(address: str) -> str:
    """The form an address is compared and stored in: mail systems treat case as the same
    mailbox in practice, so ``A.Lee@X.org`` and ``a.lee@x.org`` share one opt-out."""
    return address.strip().lower()


class NotificationOptOut(SQLModel, table=True):
    """One person's "stop sending me this kind of email"; deleting the row resubscribes."""

    __tablename__ = "notification_opt_out"

    email: str = Field(max_length=EMAIL_MAX_LENGTH, primary_key=True)
    kind: str = Field(max_length=20, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
