"""Who is signed in, as a person: a display name and an email fit to keep and to show.

Both come from the EHR (the fhirUser resource, or the verified id_token's claims), which is
untrusted text: anything that is not a printable string of sensible length is dropped, never
stored half-cut, so a flag never carries a name or an address the EHR did not mean.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.kit.text import is_unsafe

NAME_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 320  # RFC 5321 section 4.5.3.1: 64 + "@" + 255
# One "@" with something on both sides and no spaces: enough to route a message (RFC 5322's
# full grammar admits addresses no mail system delivers to).
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_EMAIL = re.compile(EMAIL_PATTERN)


def person_name(value: object) -> str | None:
    """A display name, or None when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    if not text or len(text) > NAME_MAX_LENGTH or is_unsafe(text) or not text.isprintable():
        return None
    return text


def email_address(value: object) -> str | None:
    """An email address, or None when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) > EMAIL_MAX_LENGTH or not _EMAIL.match(text) or not text.isprintable():
        return None
    return text


def claimed_identity(claims: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """The user's name and email from the verified id_token (OpenID Connect Core 5.1), the
    fallback for an EHR that does not let ValueLoop read the fhirUser resource."""
    claims = claims or {}
    return person_name(claims.get("name")), email_address(claims.get("email"))
