"""Spent token ids: a live one refuses a replay, an expired one is free again even before it
is pruned, and pruning runs at most once a minute per client and process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col

from app.cds import clients, repository
from app.cds.models import CdsJwtSeen
from app.cds.trust import _Pruning
from app.config import Mode
from tests.cds.jwt_factory import Signer

pytestmark = pytest.mark.usefixtures("clean_tables")

ISS = "https://ehr.hospital.test"
NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def session(session):
    """The conftest session, with ``ISS`` registered (only an active client spends a jti)."""
    await clients.register(session, iss=ISS, mode=Mode.DEMO, jwks=Signer.es384().jwks(), name="EHR")
    await session.commit()
    return session


async def test_a_live_jti_is_spent_once(session):
    first = await repository.spend_jti(
        session, iss=ISS, jti="a", expires_at=NOW + timedelta(minutes=5), now=NOW
    )
    again = await repository.spend_jti(
        session,
        iss=ISS,
        jti="a",
        expires_at=NOW + timedelta(minutes=5),
        now=NOW + timedelta(seconds=1),
    )

    assert (first, again) == (True, False)


async def test_an_expired_jti_is_free_again_before_any_pruning(session):
    await repository.spend_jti(session, iss=ISS, jti="b", expires_at=NOW, now=NOW)
    later = NOW + timedelta(minutes=10)

    reused = await repository.spend_jti(
        session, iss=ISS, jti="b", expires_at=later + timedelta(minutes=5), now=later
    )
    replayed = await repository.spend_jti(
        session, iss=ISS, jti="b", expires_at=later + timedelta(minutes=5), now=later
    )
    [kept] = (await session.scalars(sa.select(col(CdsJwtSeen.expires_at)))).all()

    assert (reused, replayed) == (True, False)
    assert kept.replace(tzinfo=UTC) == later + timedelta(minutes=5)


def test_pruning_is_due_once_a_minute_per_client():
    pruning = _Pruning()

    assert pruning.due(ISS, NOW)
    assert not pruning.due(ISS, NOW + timedelta(seconds=59))
    assert pruning.due("https://other.test", NOW + timedelta(seconds=59))
    assert pruning.due(ISS, NOW + timedelta(seconds=60))
    # A clock set back (another test's NOW, an NTP step) prunes rather than waits.
    assert pruning.due(ISS, NOW - timedelta(hours=1))


async def test_a_deactivated_client_spends_nothing(session):
    await clients.set_active(session, ISS, active=False)
    await session.commit()

    spent = await repository.spend_jti(
        session, iss=ISS, jti="c", expires_at=NOW + timedelta(minutes=5), now=NOW
    )

    assert spent is False
    assert (await session.scalars(sa.select(col(CdsJwtSeen.jti)))).all() == []
