"""The in-EHR "What happened to our flags": the launch's organization and the whole system over
the last 90 days, counts suppressed below 11, shareable replies, nobody named."""

from __future__ import annotations

from datetime import date, timedelta

from app.ehrs import service as ehrs
from app.organizations import service as organizations
from tests.factories import make_flag
from tests.reports.conftest import add_reply, settle
from tests.sim_ehr import full_launch

CHANGE = "We took the lumbar MRI out of the back-pain order set's defaults."


async def test_a_clinician_sees_their_organizations_outcomes_and_the_systems(
    client, ehr, ehr_http, session, session_factory
):
    practice = await organizations.add(session, "practice", name="Riverside Family Practice")
    await session.flush()
    registration = await ehrs.trusted(session, ehr.sim.fhir_base)
    registration.organization_id = practice.id
    await session.commit()
    theirs = [await make_flag(session_factory, organization_id=practice.id) for _ in range(12)]
    for flag in theirs[:11]:
        await settle(session_factory, flag, reply_hours=2, closed_days=3)
    await add_reply(session_factory, theirs[0], CHANGE, shareable=True)
    await add_reply(session_factory, theirs[1], "Not for sharing.", shareable=False)
    for _ in range(3):
        await make_flag(session_factory)  # the hospital's (main)
    handle = await full_launch(client, ehr_http, ehr.sim)

    response = await client.get(
        "/api/v1/clinician/outcomes", headers={"X-ValueLoop-Session": handle}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    ours, everyone = body["organization"], body["system"]
    assert ours["organization"] == {"code": "practice", "name": "Riverside Family Practice"}
    assert ours["flags"]["count"] == 12
    # 15 in all would give away the hospital's 3 to a practice clinician (differencing).
    assert everyone["flags"]["count"] is None
    assert everyone["flags"]["suppressed"] is True
    actions = {action["key"]: action["flags"] for action in ours["actions"]}
    assert actions["closed_with_action"]["count"] == 11
    # One flag still in review: a small cell, and its complement hidden with it.
    assert actions["in_review"]["suppressed"] is True
    assert [example["reply"] for example in ours["examples"]] == [CHANGE]
    last_day, first_day = date.fromisoformat(ours["date_to"]), date.fromisoformat(ours["date_from"])
    assert last_day - first_day == timedelta(days=89)
    text = response.text
    for named in ("pt-1", "Dr. Avery Sample", "avery.sample", "Practitioner/", "Not for sharing"):
        assert named not in text


async def test_outcomes_need_a_live_launch(client):
    response = await client.get(
        "/api/v1/clinician/outcomes", headers={"X-ValueLoop-Session": "not-a-session"}
    )

    assert response.status_code == 401
