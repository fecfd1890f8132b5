"""The app ``bench.floor`` serves: the flag submission's fixed stack with no ValueLoop logic.

Each route is one variant of what ``POST /api/v1/clinician/flags`` costs before any of our
own code runs, so that the design's "app CPU at most 3 ms per flag" can be judged against
what uvicorn + FastAPI + httpx + SQLAlchemy (async, psycopg 3) cost by themselves:

- ``POST /floor/empty``: a JSON body validated by a pydantic model shaped like the flag body,
  one async dependency reading a header, a 5-field pydantic response, 201;
- ``POST /floor/ehr``: the same plus one GET to the "EHR" with a shared ``httpx.AsyncClient``
  (built like ``app/main.py`` builds the product's), the body parsed with ``response.json()``;
- ``POST /floor/db``: ``empty`` plus one Core ``INSERT ... RETURNING id`` of a 30-column row
  on an AUTOCOMMIT connection: one round trip;
- ``POST /floor/flag_floor``: the session row by primary key, the EHR GET and one INSERT that
  writes the flag, its timeline event and its audit row (data-modifying CTEs): the three
  network operations a flag needs at the least;
- ``POST /floor/flag_floor_orm``: the same, but the rows written the product's way: an ORM
  ``AsyncSession``, ``add_all`` of three SQLModel objects and ``commit`` (BEGIN, three
  INSERTs, COMMIT).

The engine and the HTTP client are configured as the product's are (pool of 20, no overflow,
no pre-ping, psycopg without server-side prepared statements and JIT off; httpx limits and
timeout of ``app/main.py``). No middleware: the product's own middlewares are ValueLoop code.

Run by ``bench.floor`` as ``python -m bench.floor_app app --port P`` (settings from
``FLOOR_DATABASE_URL`` and ``FLOOR_EHR_BASE``) and ``python -m bench.floor_app ehr --port P``
(the "EHR": a raw ASGI app returning one fixed ServiceRequest, so that its own CPU is small
and measured apart). Both through ``uvicorn.run(..., access_log=False)`` with uvicorn's
defaults, like ``valueloop serve``: the same event loop and HTTP parser autodetection.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import httpx
import sqlalchemy as sa
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import registry
from sqlmodel import Field as ColumnField
from sqlmodel import SQLModel

from app.db import POSTGRES_CONNECT_ARGS

DATABASE_ENV = "FLOOR_DATABASE_URL"
EHR_ENV = "FLOOR_EHR_BASE"
SESSION_HEADER = "X-ValueLoop-Session"
ISSUER = "http://127.0.0.1/fhir"
VARIANTS = ("empty", "ehr", "db", "flag_floor", "flag_floor_orm")

# --- tables: their own metadata, so nothing here touches the product's SQLModel.metadata ------

floor_registry = registry()


class FloorBase(SQLModel, registry=floor_registry):
    """Base of the floor's tables (``FloorBase.metadata`` holds them and only them)."""


class FloorSession(FloorBase, table=True):
    """An app session row, shaped like ``app_session``: what a flag looks up first."""

    __tablename__ = "floor_session"

    handle: str = ColumnField(primary_key=True, max_length=64)
    ehr_id: uuid.UUID
    issuer: str = ColumnField(max_length=500)
    patient_id: str | None = ColumnField(default=None, max_length=64)
    encounter_id: str | None = ColumnField(default=None, max_length=64)
    fhir_user: str | None = ColumnField(default=None, max_length=500)
    fhir_context: list[str] = ColumnField(default_factory=list, sa_type=sa.JSON)
    granted_scopes: list[str] = ColumnField(default_factory=list, sa_type=sa.JSON)
    need_patient_banner: bool = True
    smart_style_url: str | None = ColumnField(default=None, max_length=500)
    tenant: str | None = ColumnField(default=None, max_length=200)
    access_token_encrypted: str = ColumnField(max_length=8000)
    refresh_token_encrypted: str | None = ColumnField(default=None, max_length=8000)
    access_expires_at: datetime | None = ColumnField(default=None, sa_type=sa.DateTime(True))
    flag_context: dict[str, Any] | None = ColumnField(default=None, sa_type=sa.JSON)
    created_at: datetime = ColumnField(sa_type=sa.DateTime(True))
    last_seen_at: datetime = ColumnField(sa_type=sa.DateTime(True))
    version: int = 1


class FloorFlag(FloorBase, table=True):
    """A flag row: 30 columns, with the product's idempotency constraint and one index."""

    __tablename__ = "floor_flag"
    __table_args__ = (
        sa.UniqueConstraint("issuer", "idempotency_scope", "idempotency_key"),
        sa.Index("ix_floor_flag_created", "created_at", "id"),
    )

    id: uuid.UUID = ColumnField(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = ColumnField(sa_type=sa.DateTime(True))
    created_week: date
    updated_at: datetime = ColumnField(sa_type=sa.DateTime(True))
    version: int = 1
    issuer: str = ColumnField(max_length=500)
    idempotency_key: str = ColumnField(max_length=100)
    idempotency_scope: str = ColumnField(max_length=500)
    request_fingerprint: str = ColumnField(max_length=64)
    anonymity: str = ColumnField(max_length=20)
    reporter_fhir_user: str | None = ColumnField(default=None, max_length=500)
    reporter_role: str = ColumnField(max_length=40)
    patient_fhir_id: str = ColumnField(max_length=64)
    patient_age_band: str | None = ColumnField(default=None, max_length=10)
    patient_sex: str | None = ColumnField(default=None, max_length=10)
    encounter_fhir_id: str | None = ColumnField(default=None, max_length=64)
    encounter_class: str | None = ColumnField(default=None, max_length=40)
    department: str | None = ColumnField(default=None, max_length=200)
    order_resource_type: str = ColumnField(max_length=40)
    order_fhir_id: str = ColumnField(max_length=64)
    order_code_system: str | None = ColumnField(default=None, max_length=500)
    order_code: str | None = ColumnField(default=None, max_length=100)
    order_display: str = ColumnField(max_length=200)
    order_status: str = ColumnField(max_length=20)
    timing: str = ColumnField(max_length=10)
    reason: str = ColumnField(max_length=40)
    driver: str | None = ColumnField(default=None, max_length=40)
    note: str | None = ColumnField(default=None, max_length=1000)
    status: str = ColumnField(max_length=20)
    tags: list[str] = ColumnField(default_factory=list, sa_type=sa.JSON)


class FloorFlagEvent(FloorBase, table=True):
    """A timeline event: 8 columns, its id from the database (RETURNING, as the product's)."""

    __tablename__ = "floor_flag_event"

    id: int | None = ColumnField(default=None, sa_type=sa.BigInteger, primary_key=True)
    flag_id: uuid.UUID = ColumnField(foreign_key="floor_flag.id", index=True)
    at: datetime = ColumnField(sa_type=sa.DateTime(True))
    kind: str = ColumnField(max_length=20)
    actor_name: str = ColumnField(max_length=200)
    actor_role: str = ColumnField(max_length=40)
    to_status: str | None = ColumnField(default=None, max_length=20)
    details: dict[str, Any] | None = ColumnField(default=None, sa_type=sa.JSON)


class FloorAuditEvent(FloorBase, table=True):
    """An audit row: 10 columns, its id from the database."""

    __tablename__ = "floor_audit_event"

    id: int | None = ColumnField(default=None, sa_type=sa.BigInteger, primary_key=True)
    at: datetime = ColumnField(sa_type=sa.DateTime(True), index=True)
    actor_kind: str = ColumnField(max_length=20)
    actor_id: str = ColumnField(max_length=500)
    actor_role: str = ColumnField(max_length=40)
    action: str = ColumnField(max_length=20)
    entity_type: str = ColumnField(max_length=40)
    entity_id: str | None = ColumnField(default=None, max_length=100)
    issuer: str | None = ColumnField(default=None, max_length=500)
    details: dict[str, Any] | None = ColumnField(default=None, sa_type=sa.JSON)


metadata = FloorBase.metadata


def _table(model: type[SQLModel]) -> sa.Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, sa.Table)
    return table


SESSIONS = _table(FloorSession)
FLAGS = _table(FloorFlag)
EVENTS = _table(FloorFlagEvent)
AUDITS = _table(FloorAuditEvent)


def session_row(handle: str, now: datetime) -> dict[str, Any]:
    """A launch's session, as ``bench.floor`` seeds one per client (synthetic values)."""
    return {
        "handle": handle,
        "ehr_id": uuid.UUID(int=1),
        "issuer": ISSUER,
        "patient_id": "pat-00001",
        "encounter_id": "enc-00001",
        "fhir_user": "Practitioner/prac-00001",
        "fhir_context": [],
        "granted_scopes": ["launch", "openid", "fhirUser", "patient/*.read"],
        "need_patient_banner": True,
        "smart_style_url": None,
        "tenant": None,
        "access_token_encrypted": "x" * 400,
        "refresh_token_encrypted": "y" * 400,
        "access_expires_at": now,
        "flag_context": {
            "patient": {"age_band": "60-69", "sex": "female"},
            "encounter": {"class": "EMER", "department": "Emergency Department"},
        },
        "created_at": now,
        "last_seen_at": now,
        "version": 1,
    }


# --- statements: built once, compiled once (SQLAlchemy's statement cache) ------------------------

SELECT_SESSION = sa.select(SESSIONS).where(SESSIONS.c.handle == sa.bindparam("handle"))
INSERT_FLAG = sa.insert(FLAGS).returning(FLAGS.c.id)


def _binds(table: sa.Table, prefix: str, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {
        column.name: sa.bindparam(f"{prefix}{column.name}", type_=column.type)
        for column in table.columns
        if column.name not in skip
    }


def _insert_all_three() -> sa.Select[Any]:
    """One statement, one round trip, atomic even in autocommit: the flag, then its event and
    audit row from the flag's RETURNING (PostgreSQL runs every data-modifying CTE)."""
    flag = sa.insert(FLAGS).values(_binds(FLAGS, "f_")).returning(FLAGS.c.id).cte("new_flag")
    event_binds = _binds(EVENTS, "e_", frozenset({"id", "flag_id"}))
    event = sa.insert(EVENTS).from_select(
        ["flag_id", *event_binds], sa.select(flag.c.id, *event_binds.values())
    )
    audit_binds = _binds(AUDITS, "a_", frozenset({"id", "entity_id"}))
    audit = sa.insert(AUDITS).from_select(
        ["entity_id", *audit_binds],
        sa.select(sa.cast(flag.c.id, sa.String), *audit_binds.values()),
    )
    return sa.select(flag.c.id).add_cte(event.cte("new_event"), audit.cte("new_audit"))


INSERT_ALL_THREE = _insert_all_three()


# --- the request and response: shaped like ClinicianFlagIn and FlagReceipt -----------------------


class FlagIn(BaseModel):
    """The flag body (``bench.flags.flag_body``), with the product's kinds of constraints."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    resource_type: Literal["ServiceRequest", "MedicationRequest"]
    order_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9\-.]{1,64}$")]
    reason: Literal[
        "not_indicated", "repeat_duplicate", "lower_cost_alternative", "low_benefit", "other"
    ]
    driver: (
        Literal["patient_request", "order_set_default", "defensive_medicine", "protocol"] | None
    ) = None
    timing: Literal["before", "after"] = "before"
    note: Annotated[str, Field(max_length=1000)] | None = None
    anonymity: Literal["identified", "confidential", "anonymous"] = "identified"
    reporter_role: Literal[
        "physician", "resident", "advanced_practice_provider", "nurse", "pharmacist"
    ]
    idempotency_key: Annotated[
        str, Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")
    ]
    tags: Annotated[list[str], Field(max_length=10)] = Field(default_factory=list)


class Receipt(BaseModel):
    created: bool
    flag_id: str
    status: str
    order_display: str
    receipt_token: str | None


async def session_handle(x_valueloop_session: Annotated[str | None, Header()] = None) -> str:
    """The one dependency: the session handle from its header (``async def``, as the
    product's: a plain ``def`` would run in a worker thread)."""
    if not x_valueloop_session:
        raise HTTPException(status_code=401, detail="no session")
    return x_valueloop_session


HandleDep = Annotated[str, Depends(session_handle)]


# --- the app -------------------------------------------------------------------------------------


def create_app() -> FastAPI:
    """The floor app, configured from the environment (uvicorn's ``factory=True``)."""
    database_url = os.environ[DATABASE_ENV]
    ehr_base = os.environ[EHR_ENV].rstrip("/")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_async_engine(  # as app.db.create_engine_for builds the product's
            database_url,
            pool_size=20,
            max_overflow=0,
            pool_timeout=10.0,
            pool_pre_ping=False,
            hide_parameters=True,
            connect_args=POSTGRES_CONNECT_ARGS,
        )
        http = httpx.AsyncClient(  # as app/main.py builds the product's
            timeout=10.0,
            follow_redirects=False,
            limits=httpx.Limits(
                max_connections=100, max_keepalive_connections=20, keepalive_expiry=60
            ),
        )
        app.state.engine = engine
        app.state.autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        app.state.sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        app.state.http = http
        app.state.ehr_base = ehr_base
        try:
            yield
        finally:
            await http.aclose()
            await engine.dispose()

    app = FastAPI(title="ValueLoop floor benchmark", lifespan=lifespan)

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/floor/empty", status_code=201)
    async def empty(body: FlagIn, handle: HandleDep) -> Receipt:
        return _receipt(uuid.uuid4(), f"{body.resource_type}/{body.order_id}")

    @app.post("/floor/ehr", status_code=201)
    async def ehr(body: FlagIn, handle: HandleDep, request: Request) -> Receipt:
        order = await _read_order(request, body)
        return _receipt(uuid.uuid4(), _display(order))

    @app.post("/floor/db", status_code=201)
    async def db(body: FlagIn, handle: HandleDep, request: Request) -> Receipt:
        now = datetime.now(UTC)
        engine: AsyncEngine = request.app.state.autocommit
        async with engine.connect() as connection:
            result = await connection.execute(INSERT_FLAG, flag_row(body, handle, None, now))
            flag_id = result.scalar_one()
        return _receipt(flag_id, f"{body.resource_type}/{body.order_id}")

    @app.post("/floor/flag_floor", status_code=201)
    async def flag_floor(body: FlagIn, handle: HandleDep, request: Request) -> Receipt:
        current = await _session(request, handle)
        order = await _read_order(request, body)
        now = datetime.now(UTC)
        params = {
            **{f"f_{k}": v for k, v in flag_row(body, handle, order, now).items()},
            **{f"e_{k}": v for k, v in event_row(current, now).items()},
            **{f"a_{k}": v for k, v in audit_row(current, body, None, now).items()},
        }
        engine: AsyncEngine = request.app.state.autocommit
        async with engine.connect() as connection:
            flag_id = (await connection.execute(INSERT_ALL_THREE, params)).scalar_one()
        return _receipt(flag_id, _display(order))

    @app.post("/floor/flag_floor_orm", status_code=201)
    async def flag_floor_orm(body: FlagIn, handle: HandleDep, request: Request) -> Receipt:
        current = await _session(request, handle)
        order = await _read_order(request, body)
        now = datetime.now(UTC)
        flag = FloorFlag(**flag_row(body, handle, order, now))
        sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
        async with sessions() as session:
            session.add_all(
                [
                    flag,
                    FloorFlagEvent(**event_row(current, now), flag_id=flag.id),
                    FloorAuditEvent(**audit_row(current, body, str(flag.id), now)),
                ]
            )
            await session.commit()
        return _receipt(flag.id, _display(order))

    return app


async def _session(request: Request, handle: str) -> sa.Row[Any]:
    """The session row by primary key: one round trip, the connection back before the EHR
    call (as the product's autocommit housekeeping session)."""
    engine: AsyncEngine = request.app.state.autocommit
    async with engine.connect() as connection:
        row = (await connection.execute(SELECT_SESSION, {"handle": handle})).one_or_none()
    if row is None:
        raise HTTPException(status_code=401, detail="unknown session")
    return row


async def _read_order(request: Request, body: FlagIn) -> dict[str, Any]:
    """One GET to the EHR, with the headers the product's FHIR client sends; JSON parsed."""
    http: httpx.AsyncClient = request.app.state.http
    response = await http.get(
        f"{request.app.state.ehr_base}/fhir/{body.resource_type}/{body.order_id}",
        headers={"Accept": "application/fhir+json", "Authorization": "Bearer floor-token"},
    )
    if response.status_code != 200:
        raise HTTPException(status_code=502, detail=f"EHR answered {response.status_code}")
    order: dict[str, Any] = response.json()
    return order


def _display(order: dict[str, Any]) -> str:
    return str(order.get("code", {}).get("text") or order.get("id"))


def _receipt(flag_id: uuid.UUID, display: str) -> Receipt:
    return Receipt(
        created=True,
        flag_id=str(flag_id),
        status="submitted",
        order_display=display,
        receipt_token=None,
    )


def flag_row(
    body: FlagIn, handle: str, order: dict[str, Any] | None, now: datetime
) -> dict[str, Any]:
    """The 30 columns of a flag (the same values whichever way they are written)."""
    coding = (order or {}).get("code", {}).get("coding") or [{}]
    return {
        "id": uuid.uuid4(),
        "created_at": now,
        "created_week": now.date(),
        "updated_at": now,
        "version": 1,
        "issuer": ISSUER,
        "idempotency_key": body.idempotency_key,
        "idempotency_scope": "" if body.anonymity == "anonymous" else "Practitioner/prac-00001",
        "request_fingerprint": "0" * 64,
        "anonymity": body.anonymity,
        "reporter_fhir_user": None if body.anonymity == "anonymous" else "Practitioner/prac-1",
        "reporter_role": body.reporter_role,
        "patient_fhir_id": "pat-00001",
        "patient_age_band": "60-69",
        "patient_sex": "female",
        "encounter_fhir_id": "enc-00001",
        "encounter_class": "EMER",
        "department": "Emergency Department",
        "order_resource_type": body.resource_type,
        "order_fhir_id": body.order_id,
        "order_code_system": coding[0].get("system"),
        "order_code": coding[0].get("code"),
        "order_display": _display(order) if order else body.order_id,
        "order_status": (order or {}).get("status", "active"),
        "timing": body.timing,
        "reason": body.reason,
        "driver": body.driver,
        "note": body.note,
        "status": "submitted",
        "tags": body.tags,
    }


def event_row(current: sa.Row[Any], now: datetime) -> dict[str, Any]:
    """The flag's 'created' timeline event (``flag_id`` from the flag)."""
    return {
        "at": now,
        "kind": "created",
        "actor_name": str(current.fhir_user),
        "actor_role": "clinician",
        "to_status": "submitted",
        "details": None,
    }


def audit_row(
    current: sa.Row[Any], body: FlagIn, entity_id: str | None, now: datetime
) -> dict[str, Any]:
    """The flag's 'create' audit row (``entity_id``: the flag's id, when known)."""
    row: dict[str, Any] = {
        "at": now,
        "actor_kind": "clinician",
        "actor_id": str(current.fhir_user),
        "actor_role": "clinician",
        "action": "create",
        "entity_type": "flag",
        "issuer": current.issuer,
        "details": {"order": f"{body.resource_type}/{body.order_id}"},
    }
    if entity_id is not None:
        row["entity_id"] = entity_id
    return row


# --- the "EHR": a raw ASGI app with one fixed answer ----------------------------------------------


def _service_request() -> bytes:
    """A synthetic FHIR ServiceRequest of about 1.5 KB, as the simulated EHR would send."""
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": "sr-00001",
        "meta": {"versionId": "1", "lastUpdated": "2026-11-24T08:15:00Z"},
        "identifier": [
            {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268", "value": "ORD-4815162342"}
        ],
        "status": "active",
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "363679005",
                        "display": "Imaging",
                    }
                ],
                "text": "Imaging",
            }
        ],
        "priority": "routine",
        "code": {
            "coding": [
                {
                    "system": "http://www.ama-assn.org/go/cpt",
                    "code": "72148",
                    "display": "MRI lumbar spine without contrast",
                },
                {
                    "system": "http://loinc.org",
                    "code": "24982-2",
                    "display": "MR Lumbar spine WO contrast",
                },
            ],
            "text": "MRI lumbar spine without contrast",
        },
        "subject": {"reference": "Patient/pat-00001", "display": "Synthetic Patient One"},
        "encounter": {"reference": "Encounter/enc-00001"},
        "occurrenceDateTime": "2026-11-24T10:00:00Z",
        "authoredOn": "2026-11-24T08:15:00Z",
        "requester": {"reference": "Practitioner/prac-00001", "display": "Dr Synthetic Smith"},
        "performer": [{"reference": "Organization/org-radiology", "display": "Radiology"}],
        "reasonCode": [
            {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/sid/icd-10-cm",
                        "code": "M54.50",
                        "display": "Low back pain, unspecified",
                    }
                ],
                "text": "Low back pain",
            }
        ],
        "reasonReference": [{"reference": "Condition/cond-00001"}],
        "note": [
            {
                "authorReference": {"reference": "Practitioner/prac-00001"},
                "time": "2026-11-24T08:15:00Z",
                "text": "Synthetic order note: acute low back pain, two weeks, no red flags "
                "documented; patient requests imaging.",
            }
        ],
        "patientInstruction": "No metal objects. Arrive 15 minutes early.",
    }
    return json.dumps(resource, separators=(",", ":")).encode()


SERVICE_REQUEST = _service_request()
_EHR_HEAD = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"application/fhir+json"),
        (b"content-length", str(len(SERVICE_REQUEST)).encode()),
    ],
}
_EHR_BODY = {"type": "http.response.body", "body": SERVICE_REQUEST}

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def ehr_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Every GET (any path) gets the same ServiceRequest: no routing, no framework."""
    if scope["type"] == "lifespan":
        for _ in range(4):  # startup, shutdown
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
        return
    if scope["type"] != "http":
        return
    await send(_EHR_HEAD)
    await send(_EHR_BODY)


def main(argv: list[str] | None = None) -> None:
    """Serve the floor app or the "EHR" on 127.0.0.1 with uvicorn's defaults."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.floor_app")
    parser.add_argument("which", choices=("app", "ehr"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    if args.which == "app":
        target = "bench.floor_app:create_app"
        uvicorn.run(target, factory=True, host=args.host, port=args.port, access_log=False)
    else:
        uvicorn.run("bench.floor_app:ehr_app", host=args.host, port=args.port, access_log=False)


if __name__ == "__main__":
    main()
