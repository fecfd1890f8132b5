"""Who may know a flag's reporter: the anonymity rule, written once.

identified: the reporter is stored and shown. confidential: stored, so the loop can close, but
hidden from every reader of the flag (dashboard, API, exports, timeline). anonymous: not stored
at all; the reporter follows the flag with a receipt token. Whatever stores, shows, names or
searches by a reporter asks here, in Python or in SQL.

"The reporter" is their fhirUser, display name and email together (``Flag.reporter_*``):
all stored or none (:func:`identity_kept`), all shown or none (:func:`identity_hidden`).
The email exists to tell the reporter about replies (:func:`reporter_email_for_notice`),
which confidential reporters get too.
"""

from __future__ import annotations

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from app.flags.catalog import Anonymity
from app.flags.models import Flag

# The one level whose reporter readers may see, and the one whose reporter is not stored.
_SHOWN = Anonymity.IDENTIFIED
_NOT_KEPT = Anonymity.ANONYMOUS

# How the timeline names a reporter whose identity is hidden from readers.
_HIDDEN_NAMES = {
    Anonymity.CONFIDENTIAL: "Confidential reporter",
    Anonymity.ANONYMOUS: "Anonymous reporter",
}


def identity_hidden(anonymity: str) -> bool:
    """Whether readers of the flag are kept from its reporter's identity, whatever their role."""
    return anonymity != _SHOWN


def identity_shown_condition() -> ColumnElement[bool]:
    """:func:`identity_hidden`, negated, on the flag table: searching by reporter must not
    unmask anyone."""
    return col(Flag.anonymity) == _SHOWN.value


def identity_kept(anonymity: str) -> bool:
    """Whether the reporter's identity is stored at all (so the reporter can be answered)."""
    return anonymity != _NOT_KEPT


def identity_kept_condition() -> ColumnElement[bool]:
    """:func:`identity_kept` on the flag table."""
    return col(Flag.anonymity) != _NOT_KEPT.value


def reporter_email_for_notice(flag: Flag) -> str | None:
    """Where the reporter may be told that the team answered: identified and confidential
    flags with an email. Never show it to readers of a confidential flag."""
    return flag.reporter_email if identity_kept(flag.anonymity) else None


def reporter_name(anonymity: str, display: str | None) -> str:
    """How the timeline names the reporter."""
    return _HIDDEN_NAMES.get(Anonymity(anonymity)) or display or "Reporter"
