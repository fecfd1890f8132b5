"""GET /api/v1/flags/{id}/fhir: one flag and its follow-up as a valid R4 Bundle (DetectedIssue,
Task, a Communication per reply, a Provenance per event), never naming a hidden reporter,
readable by anyone who reads flags, and audited as a read of the flag."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import col, select

from app.audit.models import AuditEvent
from app.flags.workflow import Status
from tests.factories import make_flag, make_staff
from tests.interop.arrange import comment, fhir_bundle, move, of_type, reclassify, reply

BASE = "http://127.0.0.1:8000/fhir"
REPORTER = ("Practitioner/pr-1", "Dr. Avery Sample", "avery.sample@example.org")


async def test_a_worked_flag_is_a_collection_bundle_of_its_issue_task_replies_and_provenance(
    client, tokens, session_factory
):
    flag = await make_flag(session_factory)
    lead = await make_staff(session_factory, name="Dr. E. Nwosu")
    await move(session_factory, flag.id, Status.TRIAGED, lead)
    await move(session_factory, flag.id, Status.ACCEPTED, lead, owner={"lead": str(lead.id)})
    await move(session_factory, flag.id, Status.ACTION_TAKEN, lead, comment="Order set edited.")
    await move(
        session_factory, flag.id, Status.CLOSED, lead, reply="We removed it from the order set."
    )

    bundle, _ = await fhir_bundle(client, tokens, flag.id)

    assert bundle.type == "collection"
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    # 8 events: created, 3 moves + assignment, a comment, the closing move and its reply.
    assert kinds == ["DetectedIssue", "Task", "Communication"] + ["Provenance"] * 8
    assert all(entry.fullUrl == f"urn:uuid:{entry.resource.id}" for entry in bundle.entry)
    (issue,) = of_type(bundle, "DetectedIssue")
    assert issue.status == "final"
    assert issue.patient.reference == "Patient/pt-1"
    assert issue.implicated[0].reference == "ServiceRequest/sr-1"
    assert issue.implicated[0].display == "MRI lumbar spine without contrast"
    assert issue.code.coding[0].system == f"{BASE}/CodeSystem/valueloop-flag-reason"
    assert issue.code.coding[0].code == "not_indicated"
    assert issue.detail == "Week-one back pain, no red flags."
    assert issue.identifiedDateTime == flag.created_at
    assert issue.severity is None  # nothing on a flag grades harm to the patient
    assert [(m.action.coding[0].code, m.author.display) for m in issue.mitigation] == [
        ("triaged", "Dr. E. Nwosu"),
        ("accepted", "Dr. E. Nwosu"),
        ("action_taken", "Dr. E. Nwosu"),
        ("closed", "Dr. E. Nwosu"),
        ("reply", "Dr. E. Nwosu"),
    ]
    (task,) = of_type(bundle, "Task")
    assert (task.status, task.intent, task.businessStatus.coding[0].code) == (
        "completed",
        "order",
        "closed",
    )
    assert task.focus.reference == f"urn:uuid:{issue.id}"
    assert task.for_fhir.reference == "Patient/pt-1"
    assert task.owner.display == "Dr. E. Nwosu"
    assert task.owner.identifier.value == str(lead.id)
    assert task.authoredOn == flag.created_at


async def test_the_issue_carries_the_driver_and_the_estimated_cost(client, tokens, session_factory):
    flag = await make_flag(session_factory)

    bundle, _ = await fhir_bundle(client, tokens, flag.id)

    (issue,) = of_type(bundle, "DetectedIssue")
    by_url = {extension.url.rsplit("/", 1)[1]: extension for extension in issue.extension}
    assert by_url["flag-suspected-driver"].valueCodeableConcept.coding[0].code == "patient_request"
    cost = {part.url: part for part in by_url["flag-estimated-cost"].extension}
    assert (str(cost["amount"].valueMoney.value), cost["amount"].valueMoney.currency) == (
        "207.64",
        "USD",
    )
    assert cost["year"].valueInteger == 2022


async def test_each_reply_is_a_communication_to_an_identified_reporter(
    client, tokens, session_factory
):
    flag = await make_flag(session_factory)
    analyst = await make_staff(session_factory, name="R. Alvarez")
    await reply(session_factory, flag.id, "Thanks, we are looking at it.", analyst)
    await comment(session_factory, flag.id, "Internal: check the order set.", analyst)
    await reply(session_factory, flag.id, "We changed the order set.", analyst)

    bundle, text = await fhir_bundle(client, tokens, flag.id)

    (issue,) = of_type(bundle, "DetectedIssue")
    (task,) = of_type(bundle, "Task")
    messages = of_type(bundle, "Communication")
    assert [m.payload[0].contentString for m in messages] == [
        "Thanks, we are looking at it.",
        "We changed the order set.",
    ]
    for message in messages:
        assert message.status == "completed"
        assert message.recipient[0].reference == "Practitioner/pr-1"
        assert message.sender.display == "R. Alvarez"
        assert message.about[0].reference == f"urn:uuid:{issue.id}"
        assert message.partOf[0].reference == f"urn:uuid:{task.id}"
    assert "Internal: check the order set." not in text  # comments stay inside the team


async def test_an_identified_reporter_is_the_issues_author_and_the_flags_first_agent(
    client, tokens, session_factory
):
    flag = await make_flag(session_factory, anonymity="identified")

    bundle, _ = await fhir_bundle(client, tokens, flag.id)

    (issue,) = of_type(bundle, "DetectedIssue")
    (created,) = of_type(bundle, "Provenance")
    assert (issue.author.reference, issue.author.display) == REPORTER[:2]
    assert created.agent[0].who.reference == "Practitioner/pr-1"
    assert created.agent[0].type.coding[0].code == "author"
    assert created.activity.coding[0].code == "created"


@pytest.mark.parametrize(
    ("anonymity", "shown_as"),
    [("anonymous", "Anonymous reporter"), ("confidential", "Confidential reporter")],
)
async def test_a_hidden_reporter_appears_nowhere_in_the_flags_resources(
    client, tokens, session_factory, anonymity, shown_as
):
    flag = await make_flag(session_factory, anonymity=anonymity)
    analyst = await make_staff(session_factory, name="R. Alvarez")
    await move(session_factory, flag.id, Status.TRIAGED, analyst)
    await move(session_factory, flag.id, Status.NEEDS_INFO, analyst, reply="Which guideline?")

    bundle, text = await fhir_bundle(client, tokens, flag.id)

    for identity in (*REPORTER, "pr-1"):
        assert identity not in text
    (issue,) = of_type(bundle, "DetectedIssue")
    assert issue.author is None
    (task,) = of_type(bundle, "Task")
    assert task.requester is None
    (message,) = of_type(bundle, "Communication")
    assert message.recipient is None
    assert of_type(bundle, "Provenance")[0].agent[0].who.display == shown_as


async def test_a_dyad_owner_is_a_contained_care_team_of_both_leads(client, tokens, session_factory):
    flag = await make_flag(session_factory)
    clinical = await make_staff(session_factory, name="Dr. H. Tanaka")
    operational = await make_staff(session_factory, name="K. Osei")
    await move(session_factory, flag.id, Status.TRIAGED, clinical)
    dyad = {"clinical_lead": str(clinical.id), "operational_lead": str(operational.id)}
    await move(session_factory, flag.id, Status.ACCEPTED, clinical, owner=dyad)

    bundle, _ = await fhir_bundle(client, tokens, flag.id)

    (task,) = of_type(bundle, "Task")
    (team,) = task.contained
    assert task.owner.reference == f"#{team.id}"
    assert [(p.role[0].text, p.member.display) for p in team.participant] == [
        ("Clinical lead", "Dr. H. Tanaka"),
        ("Operational lead", "K. Osei"),
    ]
    assert [p.member.identifier.value for p in team.participant] == [
        str(clinical.id),
        str(operational.id),
    ]


async def test_a_reclassified_flag_is_an_amended_issue_with_the_teams_reason(
    client, tokens, session_factory
):
    flag = await make_flag(session_factory, reason="not_indicated")
    analyst = await make_staff(session_factory, name="R. Alvarez")
    await reclassify(session_factory, flag.id, analyst, reason="repeat_duplicate")

    bundle, _ = await fhir_bundle(client, tokens, flag.id)

    (issue,) = of_type(bundle, "DetectedIssue")
    assert issue.status == "amended"
    assert issue.code.coding[0].code == "repeat_duplicate"
    assert of_type(bundle, "Provenance")[-1].activity.coding[0].code == "reclassification"


async def test_exporting_a_flag_twice_gives_the_same_bundle(client, tokens, session_factory):
    flag = await make_flag(session_factory)
    analyst = await make_staff(session_factory)
    await reply(session_factory, flag.id, "Noted.", analyst)

    _, first = await fhir_bundle(client, tokens, flag.id)
    _, second = await fhir_bundle(client, tokens, flag.id)

    assert first == second


async def test_two_flags_share_no_resource_id(client, tokens, session_factory):
    one = await make_flag(session_factory)
    other = await make_flag(session_factory)

    first, _ = await fhir_bundle(client, tokens, one.id)
    second, _ = await fhir_bundle(client, tokens, other.id)

    assert {e.resource.id for e in first.entry}.isdisjoint(e.resource.id for e in second.entry)


async def test_a_note_with_control_whitespace_still_makes_valid_fhir_strings(
    client, tokens, session_factory
):
    flag = await make_flag(session_factory, note="Line one\x0cline two\u2028three")

    bundle, _ = await fhir_bundle(client, tokens, flag.id)

    assert of_type(bundle, "DetectedIssue")[0].detail == "Line one line two three"


async def test_reading_a_flag_as_fhir_is_audited_as_a_read_of_that_flag(
    client, tokens, session_factory
):
    flag = await make_flag(session_factory)

    await fhir_bundle(client, tokens, flag.id, role="lead")

    async with session_factory() as session:
        rows = (await session.scalars(select(AuditEvent).order_by(col(AuditEvent.id)))).all()
    assert [(row.action, row.entity_type, row.entity_id, row.details) for row in rows] == [
        ("read", "flag", str(flag.id), {"format": "fhir"})
    ]
    assert rows[0].actor_role == "lead"
    assert rows[0].issuer == flag.issuer


async def test_an_unknown_flag_is_a_404_problem_like_the_other_flag_endpoints(client, tokens):
    missing = uuid.uuid4()

    response = await client.get(f"/api/v1/flags/{missing}/fhir", headers=tokens.header("lead"))

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:valueloop:problem:flag-not-found"


async def test_the_fhir_view_needs_credentials(client, session_factory):
    flag = await make_flag(session_factory)

    response = await client.get(f"/api/v1/flags/{flag.id}/fhir")

    assert response.status_code == 401
