"""The signed-in user (``fhirUser``) read in the launch context's first batch, on
httpx.MockTransport: Practitioner, PractitionerRole, and EHRs that will not say."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from fhir_client import FhirForbiddenError, FhirNotFoundError, FhirUser, read_user
from tests.fhir_client.conftest import MakeClient
from tests.fhir_client.factories import Json, fhir_response, outcome
from tests.fhir_client.test_context import FakeEhr, launch


def practitioner(id: str = "prac-1", **fields: Any) -> Json:
    return {
        "resourceType": "Practitioner",
        "id": id,
        "name": [{"use": "official", "prefix": ["Dr."], "given": ["Wren"], "family": "Ashby"}],
        "telecom": [
            {"system": "phone", "value": "555-0100"},
            {"system": "email", "value": "old.ashby@example.org", "rank": 5},
            {"system": "email", "value": "wren.ashby@example.org", "rank": 1},
        ],
        **fields,
    }


def role(id: str = "role-1", **fields: Any) -> Json:
    return {
        "resourceType": "PractitionerRole",
        "id": id,
        "practitioner": {"reference": "Practitioner/prac-1", "display": "Dr. Wren Ashby"},
        "telecom": [{"system": "email", "value": "ed.ashby@example.org"}],
        **fields,
    }


def chart() -> list[Json]:
    from tests.fhir_client.factories import encounter, patient

    return [patient(), encounter()]


async def test_a_practitioner_user_is_read_with_the_context(make_client: MakeClient):
    ehr = FakeEhr([*chart(), practitioner()])

    context = await launch(make_client, ehr, fhir_user="Practitioner/prac-1")

    assert context.user == FhirUser(name="Dr. Wren Ashby", email="wren.ashby@example.org")


async def test_the_user_is_read_in_the_same_concurrent_batch(make_client: MakeClient):
    """The Patient read waits until the Practitioner read has been sent: if the user were read
    after the batch (one more round trip), this would time out."""
    ehr = FakeEhr([*chart(), practitioner()])
    user_asked = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Practitioner/prac-1"):
            user_asked.set()
        if request.url.path.endswith("/Patient/pat-1"):
            await asyncio.wait_for(user_asked.wait(), timeout=2)
        return ehr(request)

    context = await launch(make_client, handler, fhir_user="Practitioner/prac-1")

    assert context.user is not None
    assert context.user.name == "Dr. Wren Ashby"


async def test_a_practitioner_role_gives_its_practitioners_display_and_its_own_email(
    make_client: MakeClient,
):
    ehr = FakeEhr([*chart(), role(), practitioner()])
    client, recorded = make_client(ehr)

    user = await read_user(client, "PractitionerRole/role-1")

    assert user == FhirUser(name="Dr. Wren Ashby", email="ed.ashby@example.org")
    # Everything came with the role: the Practitioner was not read.
    assert [r.url.path for r in recorded.requests] == ["/fhir/R4/PractitionerRole/role-1"]


async def test_a_role_without_display_or_email_reads_its_practitioner(make_client: MakeClient):
    bare_role = role(practitioner={"reference": "Practitioner/prac-1"}, telecom=None)
    ehr = FakeEhr([*chart(), bare_role, practitioner()])

    context = await launch(make_client, ehr, fhir_user="PractitionerRole/role-1")

    assert context.user == FhirUser(name="Dr. Wren Ashby", email="wren.ashby@example.org")


async def test_a_role_whose_practitioner_is_unreadable_keeps_what_the_role_says(
    make_client: MakeClient,
):
    ehr = FakeEhr([*chart(), role(telecom=None)], failing_types={"Practitioner": 403})

    context = await launch(make_client, ehr, fhir_user="PractitionerRole/role-1")

    assert context.user == FhirUser(name="Dr. Wren Ashby", email=None)


@pytest.mark.parametrize(("status", "error"), [(403, FhirForbiddenError), (404, FhirNotFoundError)])
async def test_an_unreadable_user_leaves_the_launch_whole(
    make_client: MakeClient, status: int, error: type[Exception]
):
    ehr = FakeEhr(
        [*chart(), practitioner()],
        failing_types={"Practitioner": status} if status == 403 else {},
    )
    reference = "Practitioner/prac-1" if status == 403 else "Practitioner/nobody"

    context = await launch(make_client, ehr, fhir_user=reference)

    assert context.user is None
    assert context.patient.id == "pat-1"
    assert context.warnings == []
    client, _ = make_client(ehr)
    assert isinstance(await read_user(client, reference), error)


async def test_a_user_the_grant_does_not_cover_is_not_asked_for(make_client: MakeClient):
    ehr = FakeEhr([*chart(), practitioner()])
    client, recorded = make_client(ehr)
    from fhir_client import fetch_launch_context

    context = await fetch_launch_context(
        client,
        patient_id="pat-1",
        encounter_id="enc-1",
        readable=lambda resource_type: resource_type != "Practitioner",
        fhir_user="Practitioner/prac-1",
    )

    assert context.user is None
    assert not any("Practitioner" in r.url.path for r in recorded.requests)


@pytest.mark.parametrize("reference", [None, "", "Patient/pat-1", "Practitioner/"])
async def test_no_usable_reference_reads_nothing(make_client: MakeClient, reference: str | None):
    client, recorded = make_client(lambda request: fhir_response(outcome("unexpected"), 500))

    assert await read_user(client, reference) is None
    assert recorded.requests == []


async def test_a_practitioner_without_name_or_email_is_no_user(make_client: MakeClient):
    nameless = practitioner(name=None, telecom=None)
    client, _ = make_client(FakeEhr([nameless]))

    result = await read_user(client, "Practitioner/prac-1")

    assert not isinstance(result, FhirUser)


async def test_a_name_given_as_text_wins_and_ended_emails_are_skipped(make_client: MakeClient):
    person = practitioner(
        name=[{"text": "Wren Ashby, MD"}],
        telecom=[
            {"system": "email", "value": "gone@example.org", "period": {"end": "2020-01-01"}},
            {"system": "email", "value": "now@example.org"},
        ],
    )
    client, _ = make_client(FakeEhr([person]))

    assert await read_user(client, "Practitioner/prac-1") == FhirUser(
        name="Wren Ashby, MD", email="now@example.org"
    )
