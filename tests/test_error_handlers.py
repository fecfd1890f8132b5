"""Errors a handler turns into problem details, on a tiny app: a write that lost a race inside
an autoflush (SQLAlchemy's StaleDataError) is a 412 like a failed If-Match, never a 500."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.orm.exc import StaleDataError

from app.errors import install_error_handlers


async def test_a_lost_write_race_is_a_412_saying_nothing_was_saved():
    tiny = FastAPI()
    install_error_handlers(tiny)

    @tiny.post("/things/1")
    async def change() -> None:
        raise StaleDataError("UPDATE statement on table 'thing' expected to update 1 row(s)")

    transport = httpx.ASGITransport(app=tiny)
    async with httpx.AsyncClient(transport=transport, base_url="http://t.test") as client:
        response = await client.post("/things/1")

    assert response.status_code == 412
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == "Changed by someone else"
    assert "nothing was saved" in problem["detail"]
    assert "UPDATE" not in problem["detail"]  # never the SQL
