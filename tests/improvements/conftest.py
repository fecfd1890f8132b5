"""Improvement work over the real app: flags to answer, a dyad of owners, and helpers that
call the API as the quality team's analyst."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import Tokens
from tests.factories import make_flag, make_staff

# The outbox tests' worker (with fast retries) and its HTTP client, for the change request.
from tests.notifications.conftest import http, make_worker  # noqa: F401

# The command-line tests' fixtures (a database file of their own, fresh settings).
from tests.test_cli import database_file, env, fresh_settings  # noqa: F401

CPT = "http://www.ama-assn.org/go/cpt"
MRI_TARGET = {"system": CPT, "code": "72148"}


@pytest.fixture
async def dyad(session_factory) -> list[str]:
    clinical = await make_staff(session_factory, name="Dr. Ines Clinical")
    operational = await make_staff(session_factory, name="Omar Operations")
    return [str(clinical.id), str(operational.id)]


async def propose(
    client: httpx.AsyncClient, tokens: Tokens, role: str = "analyst", **body: Any
) -> httpx.Response:
    payload: dict[str, Any] = {
        "title": "Remove lumbar MRI from the back-pain order set",
        "kind": "ehr_build",
    }
    payload.setdefault("targets", [MRI_TARGET])
    payload |= body
    return await client.post("/api/v1/improvements", json=payload, headers=tokens.header(role))


async def move(
    client: httpx.AsyncClient, tokens: Tokens, improvement_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/improvements/{improvement_id}/transitions",
        json=body,
        headers=tokens.header("analyst"),
    )


async def flags(session_factory, count: int, **overrides: Any) -> list[uuid.UUID]:
    return [(await make_flag(session_factory, **overrides)).id for _ in range(count)]
