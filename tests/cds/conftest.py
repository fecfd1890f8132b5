"""The CDS tests' registered CDS client, whose key signs their calls."""

from __future__ import annotations

import pytest

from app.cds import clients
from app.config import Mode
from tests.cds.jwt_factory import ISS, Signer


@pytest.fixture
async def signer(session_factory) -> Signer:
    """The key of a registered CDS client (``ISS``), the EHR of the endpoint tests."""
    signer = Signer.es384()
    async with session_factory() as session:
        await clients.register(session, iss=ISS, mode=Mode.DEMO, jwks=signer.jwks(), name="EHR")
        await session.commit()
    return signer
