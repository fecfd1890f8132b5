"""Every email ValueLoop sends, rendered in one place, and the headers that go with it.

No PHI, ever: a message names no patient, no order, no note and no reply text, only that
something happened to a flag (by a random reference) and where to look. The reporter is sent
to ValueLoop in their EHR (where the patient context lives); staff get a dashboard link that
needs them to sign in. What a message may say is read from its outbox payload, which holds
nothing more than the template, the flag's id and counts.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from app.config import Settings
from app.notifications.channels import Delivery
from app.notifications.email.links import Subscription, unsubscribe_url
from app.notifications.email.models import KIND_DESCRIPTIONS, EmailKind


class Template(StrEnum):
    """Which email a delivery is."""

    REPLIED = "replied"  # to the reporter: the team replied
    NEEDS_INFO = "needs_info"  # to the reporter: the team asks for information
    ASSIGNED = "assigned"  # to an owner: a flag was assigned to them
    DIGEST = "digest"  # to a lead: flags past the reply SLA


TEMPLATE_KINDS: dict[Template, EmailKind] = {
    Template.REPLIED: EmailKind.REPLY,
    Template.NEEDS_INFO: EmailKind.REPLY,
    Template.ASSIGNED: EmailKind.ASSIGNMENT,
    Template.DIGEST: EmailKind.DIGEST,
}


@dataclass(frozen=True)
class Rendered:
    """What a message says: a subject and paragraphs, each paragraph text or a link."""

    subject: str
    paragraphs: tuple[str | Link, ...]


@dataclass(frozen=True)
class Link:
    label: str
    url: str


def template_of(payload: Mapping[str, Any]) -> Template:
    return Template(str(payload["template"]))


def kind_of(payload: Mapping[str, Any]) -> EmailKind:
    return TEMPLATE_KINDS[template_of(payload)]


def reference(flag_id: str) -> str:
    """How a message names a flag: the start of its random id (it says nothing of a patient)."""
    return flag_id.split("-")[0]


_EHR_ONLY = (
    "To keep patient details out of email, this message does not say which patient or order "
    "the flag is about."
)


def render(payload: Mapping[str, Any], settings: Settings) -> Rendered:
    """The subject and body of the message a payload describes."""
    template = template_of(payload)
    if template is Template.REPLIED:
        return Rendered(
            "ValueLoop: the quality team replied to your flag",
            (
                f"The quality team replied to a flag you raised in ValueLoop "
                f"(reference {reference(payload['flag_id'])}).",
                "To read the reply, open ValueLoop in your EHR: it is on the first screen.",
                _EHR_ONLY,
            ),
        )
    if template is Template.NEEDS_INFO:
        return Rendered(
            "ValueLoop: the quality team has a question about your flag",
            (
                f"The quality team needs more information about a flag you raised in "
                f"ValueLoop (reference {reference(payload['flag_id'])}).",
                "To read the question and answer it, open ValueLoop in your EHR.",
                _EHR_ONLY,
            ),
        )
    if template is Template.ASSIGNED:
        flag_id = str(uuid.UUID(str(payload["flag_id"])))
        return Rendered(
            "ValueLoop: a flag was assigned to you",
            (
                f"A flag was assigned to you in ValueLoop (reference {reference(flag_id)}).",
                Link("Open the flag", f"{settings.base_url}/dashboard/flags/{flag_id}"),
                "Sign in to see it; this email carries no patient or order details.",
            ),
        )
    return _digest(payload, settings)


def _flags(count: int) -> str:
    return "1 flag" if count == 1 else f"{count} flags"


def _digest(payload: Mapping[str, Any], settings: Settings) -> Rendered:
    """A lead's flags waiting past the reply time, and those nobody owns yet, each with a link
    to the queue filtered to them."""
    hours = int(payload["sla_hours"])
    queue = f"{settings.base_url}/dashboard/queue"
    if "yours" not in payload:  # a digest planned before digests were per lead
        count = int(payload["overdue"])
        return Rendered(
            f"ValueLoop: {_flags(count)} waiting for a reply",
            (
                f"{_flags(count)} waiting longer than {hours} hours for a first reply.",
                Link("Open the queue", f"{queue}?answered=false&sort=created_at"),
            ),
        )
    yours, unassigned = int(payload["yours"]), int(payload["unassigned"])
    parts: list[str] = []
    links: list[str | Link] = []
    if yours:
        owner = uuid.UUID(str(payload["owner"]))
        parts.append(f"{_flags(yours)} you own")
        links.append(
            Link("Open the flags you own", f"{queue}?owner={owner}&answered=false&sort=created_at")
        )
    if unassigned:
        parts.append(f"{_flags(unassigned)} not yet assigned")
        links.append(
            Link(
                "Open the unassigned flags",
                f"{queue}?assigned=false&answered=false&sort=created_at",
            )
        )
    return Rendered(
        f"ValueLoop: {_flags(yours + unassigned)} waiting for a reply",
        (
            f"Waiting longer than {hours} hours for a first reply to the reporter: "
            f"{' and '.join(parts)}.",
            *links,
            "Replying closes the loop: it is what keeps clinicians reporting.",
        ),
    )


def _text(rendered: Rendered, unsubscribe: str, kind: EmailKind) -> str:
    lines = [
        part if isinstance(part, str) else f"{part.label}: {part.url}"
        for part in rendered.paragraphs
    ]
    lines += ["--", f"You get this email for {KIND_DESCRIPTIONS[kind]}.", f"Stop it: {unsubscribe}"]
    return "\n\n".join(lines) + "\n"


def _html(rendered: Rendered, unsubscribe: str, kind: EmailKind) -> str:
    def paragraph(part: str | Link) -> str:
        if isinstance(part, str):
            return f"<p>{html.escape(part)}</p>"
        return f'<p><a href="{html.escape(part.url)}">{html.escape(part.label)}</a></p>'

    footer = (
        f'<p style="color:#555;font-size:small">You get this email for '
        f"{html.escape(KIND_DESCRIPTIONS[kind])}. "
        f'<a href="{html.escape(unsubscribe)}">Stop it</a>.</p>'
    )
    body = "".join(paragraph(part) for part in rendered.paragraphs)
    return f"<!doctype html><html><body>{body}<hr>{footer}</body></html>\n"


# RFC 5322 section 3.6.4: a msg-id's left part is dot-atom text. Anything else in a key
# (a digest key's ":") is percent-encoded, so the same key always gives the same Message-ID.
_ID_SAFE = "-_"


def message_id(idempotency_key: str, sender: str) -> str:
    """The Message-ID of a delivery: its idempotency key, so a repeat is recognisable."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "valueloop.invalid"
    return f"<{quote(idempotency_key, safe=_ID_SAFE)}@{domain}>"


# Header lines may run to SMTP's 998 characters (RFC 5322 section 2.1.1): folded at 78, the
# unsubscribe URL (no spaces to break at) would be MIME-encoded, which mail clients do not read
# as a List-Unsubscribe link.
_POLICY = policy.SMTP.clone(max_line_length=998)


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as sent (CRLF lines), with its long header lines left whole."""
    return message.as_bytes(policy=_POLICY)


def compose(delivery: Delivery, settings: Settings) -> EmailMessage:
    """The message for one delivery, with the headers RFC 8058 and RFC 3834 ask for."""
    kind = kind_of(delivery.payload)
    rendered = render(delivery.payload, settings)
    unsubscribe = unsubscribe_url(
        settings.base_url,
        Subscription(email=delivery.recipient, kind=kind),
        secret_key=settings.resolved_secret_key(),
    )
    message = EmailMessage(policy=_POLICY)
    message["From"] = settings.sender
    message["To"] = delivery.recipient
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(delivery.idempotency_key, settings.sender)
    # RFC 3834 section 5: machine-sent, so autoresponders stay quiet.
    message["Auto-Submitted"] = "auto-generated"
    # RFC 2369 section 3.2 and RFC 8058 section 3.1: the link, and that a POST to it is enough.
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_text(rendered, unsubscribe, kind))
    message.add_alternative(_html(rendered, unsubscribe, kind), subtype="html")
    return message
