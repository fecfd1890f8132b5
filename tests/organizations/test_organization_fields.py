"""The API takes an organization by code where a record belongs to one: an EHR registration,
a service token, a person in the staff directory. An unknown code is a clear 422 and nothing
is written."""

from __future__ import annotations

import pytest

from tests.organizations.conftest import TwoOrganizations

EHR = {"issuer": "https://practice-ehr.example.org/fhir", "client_id": "valueloop"}
TOKEN = {"name": "Practice bridge", "role": "analyst"}
PERSON = {"email": "pat@example.org", "name": "Pat Example", "role": "lead"}


@pytest.mark.parametrize(
    ("path", "body"),
    [("/api/v1/ehrs", EHR), ("/api/v1/tokens", TOKEN), ("/api/v1/staff", PERSON)],
)
async def test_a_record_joins_the_organization_its_code_names(
    client, two_organizations: TwoOrganizations, path, body
):
    orgs = two_organizations

    created = await client.post(
        path, json={**body, "organization": "practice"}, headers=orgs.header("system_admin")
    )

    assert created.status_code == 201, created.text
    assert created.json()["organization_id"] == str(orgs.practice_id)


@pytest.mark.parametrize(
    ("path", "body"),
    [("/api/v1/ehrs", EHR), ("/api/v1/tokens", TOKEN), ("/api/v1/staff", PERSON)],
)
async def test_an_unknown_organization_code_is_422_and_nothing_is_written(
    client, two_organizations: TwoOrganizations, path, body
):
    orgs = two_organizations
    admin = orgs.header("system_admin")
    before = (await client.get(path, headers=admin)).json()

    refused = await client.post(path, json={**body, "organization": "nowhere"}, headers=admin)

    assert refused.status_code == 422
    assert "nowhere" in refused.json()["detail"]
    assert (await client.get(path, headers=admin)).json() == before
