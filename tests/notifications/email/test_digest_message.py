"""What a lead's daily digest says: their own flags and the unassigned ones, each with a link
to the queue filtered to exactly those, and nothing about any patient."""

from __future__ import annotations

from app.config import Settings
from app.notifications.email.messages import Link, render
from tests.factories import sid

LEAD_ID = sid("Dr. E. Nwosu")


def digest(yours: int, unassigned: int) -> dict[str, object]:
    return {
        "template": "digest",
        "yours": yours,
        "unassigned": unassigned,
        "owner": LEAD_ID,
        "sla_hours": 72,
        "day": "2026-12-06",
    }


def links(rendered) -> dict[str, str]:
    return {part.label: part.url for part in rendered.paragraphs if isinstance(part, Link)}


def test_a_digest_names_the_leads_own_flags_and_the_unassigned_with_a_link_to_each(
    settings: Settings,
):
    rendered = render(digest(3, 1), settings)

    assert rendered.subject == "ValueLoop: 4 flags waiting for a reply"
    assert rendered.paragraphs[0] == (
        "Waiting longer than 72 hours for a first reply to the reporter: "
        "3 flags you own and 1 flag not yet assigned."
    )
    queue = f"{settings.base_url}/dashboard/queue"
    assert links(rendered) == {
        "Open the flags you own": f"{queue}?owner={LEAD_ID}&answered=false&sort=created_at",
        "Open the unassigned flags": f"{queue}?assigned=false&answered=false&sort=created_at",
    }


def test_a_digest_leaves_out_what_is_zero(settings: Settings):
    only_unassigned = render(digest(0, 2), settings)
    only_yours = render(digest(1, 0), settings)

    assert "you own" not in str(only_unassigned.paragraphs[0])
    assert list(links(only_unassigned)) == ["Open the unassigned flags"]
    assert str(only_yours.paragraphs[0]).endswith(": 1 flag you own.")
    assert list(links(only_yours)) == ["Open the flags you own"]


def test_a_digest_planned_by_the_release_before_still_renders(settings: Settings):
    older = {"template": "digest", "overdue": 5, "sla_hours": 72, "day": "2026-12-05"}

    rendered = render(older, settings)

    assert rendered.subject == "ValueLoop: 5 flags waiting for a reply"
    assert list(links(rendered)) == ["Open the queue"]
