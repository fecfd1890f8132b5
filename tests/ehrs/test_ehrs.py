"""Registered EHRs: only these may launch ValueLoop, and each is stored without secrets in clear."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.ehrs import service as ehrs
from app.ehrs.errors import InvalidRegistration, UnknownIssuer
from app.ehrs.models import RegisteredEhr
from app.kit.crypto import SecretBox

BOX = SecretBox("k" * 40, purpose="tests")


async def register(session: AsyncSession, **overrides: Any) -> RegisteredEhr:
    fields: dict[str, Any] = {
        "issuer": "https://ehr.example.org/fhir/",
        "client_id": "valueloop",
        "client_auth": ehrs.ClientAuthKind.NONE,
        "box": BOX,
        "frame_origins": ["https://ehr.example.org"],
        **overrides,
    }
    ehr = await ehrs.register(session, **fields)
    await session.commit()
    return ehr


async def test_issuer_is_stored_without_a_trailing_slash_and_found_either_way(session):
    await register(session)

    found = await ehrs.trusted(session, "https://ehr.example.org/fhir")

    assert found.issuer == "https://ehr.example.org/fhir"
    assert found.frame_origins == ["https://ehr.example.org"]


async def test_unregistered_issuers_are_refused(session):
    await register(session)

    with pytest.raises(UnknownIssuer, match="not registered"):
        await ehrs.trusted(session, "https://elsewhere.example.org/fhir")
    with pytest.raises(UnknownIssuer):
        await ehrs.trusted(session, "javascript:alert(1)")


async def test_client_secrets_are_stored_encrypted(session):
    await register(
        session, client_auth=ehrs.ClientAuthKind.BASIC, client_secret="very-secret-value"
    )

    stored = (
        await session.execute(sa.select(col(RegisteredEhr.client_secret_encrypted)))
    ).scalar_one()

    assert stored is not None
    assert "very-secret-value" not in stored
    assert BOX.decrypt(stored) == "very-secret-value"


async def test_registering_again_updates_the_same_ehr(session):
    await register(session)
    await register(session, client_id="valueloop-2", frame_origins=[])

    rows = (await session.execute(sa.select(col(RegisteredEhr.client_id)))).scalars().all()

    assert rows == ["valueloop-2"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"issuer": "http://ehr.example.org/fhir"}, "must use https"),
        ({"issuer": "ehr.example.org/fhir"}, "not an absolute"),
        ({"issuer": "https://ehr.example.org/fhir?x=1"}, "no query"),
        ({"frame_origins": ["https://ehr.example.org/chart"]}, "no path"),
        ({"frame_origins": ["ehr.example.org"]}, "not an origin"),
        ({"client_auth": ehrs.ClientAuthKind.BASIC}, "needs a client secret"),
        ({"client_secret": "s"}, "only goes with client_secret_basic"),
    ],
)
async def test_bad_registrations_are_refused_with_the_reason(session, overrides, message):
    with pytest.raises(InvalidRegistration, match=message):
        await register(session, **overrides)


async def test_loopback_ehrs_may_use_plain_http_for_development(session):
    ehr = await register(session, issuer="http://127.0.0.1:8100/fhir")

    assert ehr.issuer == "http://127.0.0.1:8100/fhir"


async def test_ehrs_from_the_environment_are_registered_at_start(
    settings, database_url, clean_tables
):
    import json

    from app.config import Settings
    from app.main import create_app

    configured = Settings.model_validate(
        {
            **settings.model_dump(),
            "ehrs": json.loads(
                '[{"issuer": "https://ehr.example.org/fhir", "client_id": "vl",'
                ' "client_secret": "from-env", "frame_origins": ["https://ehr.example.org"]}]'
            ),
        }
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app), app.state.session_factory() as session:
        ehr = await ehrs.trusted(session, "https://ehr.example.org/fhir")

    assert (ehr.client_id, ehr.client_auth) == ("vl", "client_secret_basic")
    assert ehr.frame_origins == ["https://ehr.example.org"]
