"""The reporter's email by anonymity level: kept with the identity, shown only when
identified, and offered for notices to identified and confidential reporters only."""

from __future__ import annotations

import pytest

from app.flags.anonymity import reporter_email_for_notice
from app.flags.views import reporter
from tests.factories import make_flag

EMAIL = "avery.sample@example.org"


@pytest.mark.parametrize(
    ("anonymity", "stored", "shown", "for_notice"),
    [
        ("identified", EMAIL, EMAIL, EMAIL),
        ("confidential", EMAIL, None, EMAIL),
        ("anonymous", None, None, None),
    ],
)
async def test_the_reporters_email_follows_the_anonymity_rule(
    session_factory, anonymity: str, stored: str | None, shown: str | None, for_notice: str | None
) -> None:
    flag = await make_flag(session_factory, anonymity=anonymity)

    assert flag.reporter_email == stored
    assert reporter(flag).email == shown
    assert reporter_email_for_notice(flag) == for_notice
