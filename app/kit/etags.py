"""Entity tags of versioned records and the If-Match condition on writes (RFC 9110 sections
8.8.3 and 13.1.1): a record at version 3 has the ETag ``"v3"``; a write that names the
versions it was based on is refused with 412 when the record has moved on."""

from __future__ import annotations

import re

from app.errors import PreconditionFailed, PreconditionRequired

_ETAG = re.compile(r'^"v(\d{1,10})"$')


def etag(version: int) -> str:
    return f'"v{version}"'


def if_match_versions(if_match: str | None, *, required: bool, thing: str) -> frozenset[int] | None:
    """The versions a write may apply to, from If-Match; None sets no condition.

    The condition holds when any listed entity tag matches (strong comparison, so weak tags
    never match); ``*`` or, where allowed, no header at all means no condition. ``thing`` names
    the record in messages ("flag", "improvement").
    """
    if if_match is None:
        if required:
            raise PreconditionRequired(
                f"Send the {thing}'s ETag from your last GET as 'If-Match', so a change someone "
                "made in the meantime is not silently overwritten."
            )
        return None
    if if_match.strip() == "*":
        return None
    versions = frozenset(
        int(match.group(1))
        for candidate in if_match.split(",")
        if (match := _ETAG.match(candidate.strip()))
    )
    if not versions:
        raise PreconditionFailed(
            'If-Match does not hold an ETag this API issued (like "v3"). Use the ETag header '
            f"of the {thing}'s last GET."
        )
    return versions
