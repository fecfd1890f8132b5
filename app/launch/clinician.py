"""What a clinician does through ValueLoop inside the EHR: see the encounter, flag an order,
follow their flags.

Every flag is built from what the server itself reads from the EHR at submit time: a client
names an order, never its contents, and can only name an order of its own launch's patient
and encounter.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from weakref import WeakValueDictionary

import httpx
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.patient import Patient
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import fhir_client
import smart
from app.config import Settings
from app.flags import service as registry_service
from app.flags.catalog import AgeBand
from app.flags.costs import ReferencePrice, reference_price
from app.flags.schemas import (
    ClinicianFlagIn,
    CodingIn,
    CostEstimate,
    EncounterSnapshot,
    FlagCreate,
    OrderSnapshot,
    PatientSnapshot,
    ReporterIn,
)
from app.kit.time import utcnow
from app.launch import ehrs, repository
from app.launch.errors import EhrUnavailable, OrderNotInLaunch, SessionExpired
from app.launch.models import AppSession
from app.launch.orders import (
    OrderSummary,
    OrderView,
    ReferenceView,
    codings,
    concept_text,
    summarize_order,
)
from app.launch.secrets import token_box
from app.launch.service import DISCOVERY_CACHE, client_auth_for

REFRESH_MARGIN = timedelta(seconds=60)


# --- tokens ----------------------------------------------------------------------------------


def _needs_refresh(app_session: AppSession) -> bool:
    expires = app_session.access_expires_at
    return expires is not None and utcnow() >= expires - REFRESH_MARGIN


# One lock per session within this process; a row lock covers other processes (PostgreSQL).
_REFRESH_LOCKS: WeakValueDictionary[uuid.UUID, asyncio.Lock] = WeakValueDictionary()


async def access_token(
    session: AsyncSession,
    http: httpx.AsyncClient,
    settings: Settings,
    app_session: AppSession,
    factory: async_sessionmaker[AsyncSession],
) -> str:
    """A usable access token, refreshed shortly before it expires when a refresh token exists.

    EHRs may rotate refresh tokens (each works once), so two requests must never refresh with
    the same one: refreshing is serialised per session, and whoever waited finds the tokens
    already renewed and uses them.
    """
    box = token_box(settings)
    if not _needs_refresh(app_session):
        return box.decrypt(app_session.access_token_encrypted)
    if app_session.refresh_token_encrypted is None:
        raise SessionExpired(
            "Your access to the EHR has expired and cannot be renewed. Open ValueLoop again "
            "from the EHR."
        )
    renewed = await _refresh_serialised(factory, http, settings, app_session.id)
    return box.decrypt(renewed)


async def _refresh_serialised(
    factory: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    settings: Settings,
    session_id: uuid.UUID,
) -> str:
    """Refresh in a transaction of its own, committed before anyone waiting reads the row."""
    lock = _REFRESH_LOCKS.get(session_id)
    if lock is None:
        lock = _REFRESH_LOCKS[session_id] = asyncio.Lock()
    async with lock, factory() as own:
        row = await repository.session_for_update(own, session_id)
        if row is None:
            raise SessionExpired("Your ValueLoop session has ended.")
        if not _needs_refresh(row):
            return row.access_token_encrypted  # renewed while we waited
        if row.refresh_token_encrypted is None:
            raise SessionExpired("Your access to the EHR has expired. Open ValueLoop again.")
        box = token_box(settings)
        ehr = await ehrs.trusted(own, row.issuer)
        try:
            config = await smart.discover(http, ehr.issuer, cache=DISCOVERY_CACHE)
            token = await smart.refresh(
                http,
                config,
                client_auth_for(ehr, settings),
                refresh_token=box.decrypt(row.refresh_token_encrypted),
            )
        except smart.SmartError as exc:
            raise SessionExpired(
                "The EHR did not renew ValueLoop's access. Open ValueLoop again from the EHR."
            ) from exc
        row.access_token_encrypted = box.encrypt(token.access_token)
        if token.refresh_token:
            row.refresh_token_encrypted = box.encrypt(token.refresh_token)
        row.access_expires_at = token.expires_at
        row.version += 1
        encrypted = row.access_token_encrypted
        await own.commit()
        return encrypted


async def fhir_for(
    session: AsyncSession,
    http: httpx.AsyncClient,
    settings: Settings,
    app_session: AppSession,
    factory: async_sessionmaker[AsyncSession],
) -> fhir_client.FhirClient:
    token = await access_token(session, http, settings, app_session, factory)
    return fhir_client.FhirClient(
        http, app_session.issuer, token, timeout=settings.outbound_timeout_seconds
    )


# --- reading FHIR for people ------------------------------------------------------------------


def age_band(patient: Patient, today: date) -> AgeBand | None:
    born = patient.birthDate
    if not isinstance(born, date):
        return None
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return AgeBand.for_age(max(years, 0))


def department(encounter: Encounter | None) -> str | None:
    if encounter is None:
        return None
    for location in encounter.location or []:
        if location.location and location.location.display:
            return str(location.location.display)
    if encounter.serviceProvider and encounter.serviceProvider.display:
        return str(encounter.serviceProvider.display)
    return None


def reference_id(reference: ReferenceView | None, resource_type: str) -> str | None:
    text = reference.reference if reference is not None else None
    if not text:
        return None
    kind, _, identifier = str(text).rstrip("/").rpartition("/")
    return identifier if kind.endswith(resource_type) else None


def check_order_belongs(order: OrderView, app_session: AppSession) -> None:
    """A clinician can flag only orders of the patient and encounter they launched on."""
    if reference_id(order.subject, "Patient") != app_session.patient_id:
        raise OrderNotInLaunch("That order is not one of this patient's orders.")
    if app_session.encounter_id and reference_id(order.encounter, "Encounter") != (
        app_session.encounter_id
    ):
        raise OrderNotInLaunch("That order is not part of this encounter.")


def mrn(patient: Patient) -> str | None:
    for identifier in patient.identifier or []:
        if identifier.type and any(c.code == "MR" for c in identifier.type.coding or []):
            return str(identifier.value) if identifier.value else None
    return None


def patient_name(patient: Patient) -> str | None:
    for name in patient.name or []:
        if name.text:
            return str(name.text)
        parts = [*(name.given or []), name.family or ""]
        joined = " ".join(str(part) for part in parts if part)
        if joined:
            return joined
    return None


class EncounterFacts(BaseModel):
    """What a flag snapshots of the launch's encounter."""

    fhir_id: str
    class_code: str | None
    type: str | None
    department: str | None
    start: datetime | None
    end: datetime | None


class FlagContext(BaseModel):
    """What a flag snapshots of the launch's patient and encounter (minimum necessary).

    Taken from the EHR when the page reads the launch's context and kept in the app session
    (``AppSession.flag_context``), so submitting a flag re-reads only the order itself.
    """

    age_band: AgeBand | None
    sex: str | None
    encounter: EncounterFacts | None

    @classmethod
    def read_from(cls, patient: Patient, encounter: Encounter | None) -> FlagContext:
        band = age_band(patient, today_utc())
        return cls(
            age_band=band,
            sex=str(patient.gender) if patient.gender else None,
            encounter=None
            if encounter is None
            else EncounterFacts(
                fhir_id=str(encounter.id),
                class_code=str(encounter.class_fhir.code) if encounter.class_fhir else None,
                type=concept_text(encounter.type[0]) if encounter.type else None,
                department=department(encounter),
                start=encounter.period.start if encounter.period else None,
                end=encounter.period.end if encounter.period else None,
            ),
        )


@dataclass(frozen=True)
class ClinicianContext:
    patient: dict[str, Any]
    encounter: dict[str, Any] | None
    orders: list[OrderSummary]
    warnings: list[str]
    flag_context: FlagContext


def ehr_unavailable(exc: fhir_client.FhirError) -> EhrUnavailable:
    """Say what went wrong with the EHR in words a clinician can act on."""
    if isinstance(exc, fhir_client.FhirUnauthorizedError):
        return EhrUnavailable(
            "The EHR no longer accepts ValueLoop's access. Open ValueLoop again from the EHR."
        )
    if isinstance(exc, fhir_client.FhirTimeoutError):
        what = "took too long to answer"
    elif isinstance(exc, fhir_client.FhirConnectionError):
        what = "could not be reached"
    elif isinstance(
        exc, fhir_client.FhirInvalidResponseError | fhir_client.FhirResponseTooLargeError
    ):
        what = "sent an answer ValueLoop could not read"
    else:
        what = "answered with an error"
    return EhrUnavailable(f"The EHR {what}. Nothing was saved; try again in a moment.")


async def load_context(client: fhir_client.FhirClient, app_session: AppSession) -> ClinicianContext:
    """The patient, encounter and its orders, read concurrently from the EHR."""
    assert app_session.patient_id is not None
    try:
        granted = smart.GrantedScopes(frozenset(app_session.granted_scopes))
        data = await fhir_client.fetch_launch_context(
            client,
            patient_id=app_session.patient_id,
            encounter_id=app_session.encounter_id,
            readable=lambda kind: granted.allows_read(kind) or granted.allows_search(kind),
        )
    except fhir_client.FhirError as exc:
        raise ehr_unavailable(exc) from exc
    orders = [
        summarize_order(order.get_resource_type(), OrderView.of(order))
        for order in (*data.service_requests, *data.medication_requests)
    ]
    orders.sort(key=lambda o: o.authored_on or datetime.min.replace(tzinfo=UTC), reverse=True)
    facts = FlagContext.read_from(data.patient, data.encounter)
    encounter = facts.encounter
    return ClinicianContext(
        patient={
            "name": patient_name(data.patient),
            "age_band": facts.age_band.value if facts.age_band else None,
            "sex": facts.sex,
            "mrn": mrn(data.patient),
        },
        encounter=None
        if encounter is None or data.encounter is None
        else {
            **encounter.model_dump(exclude={"end"}),
            "status": str(data.encounter.status) if data.encounter.status else None,
        },
        orders=orders,
        warnings=list(data.warnings),
        flag_context=facts,
    )


async def keep_flag_context(
    session: AsyncSession, app_session: AppSession, facts: FlagContext
) -> None:
    """Keep what flags snapshot of the patient and encounter in the app session (only when
    it changed: reloading the page writes nothing)."""
    kept = facts.model_dump(mode="json")
    if app_session.flag_context != kept:
        await repository.keep_flag_context(session, app_session.id, kept)


def today_utc() -> date:
    return datetime.now(UTC).date()


async def _read_flag_context(
    client: fhir_client.FhirClient, app_session: AppSession
) -> FlagContext:
    """The patient and encounter facts kept from the context read, or read now for a session
    that has none (the page read no context, or the session predates keeping them)."""
    if app_session.flag_context is not None:
        return FlagContext.model_validate(app_session.flag_context)
    assert app_session.patient_id is not None
    patient, encounter = await client.gather(
        client.read("Patient", app_session.patient_id),
        client.read("Encounter", app_session.encounter_id)
        if app_session.encounter_id
        else _nothing(),
    )
    assert isinstance(patient, Patient)
    assert encounter is None or isinstance(encounter, Encounter)
    return FlagContext.read_from(patient, encounter)


async def _nothing() -> None:
    return None


async def flag_order(
    session: AsyncSession,
    http: httpx.AsyncClient,
    settings: Settings,
    app_session: AppSession,
    request: ClinicianFlagIn,
    factory: async_sessionmaker[AsyncSession],
) -> registry_service.Created:
    """Flag an order as the EHR has it now: re-read, checked against the launch, snapshotted."""
    if app_session.patient_id is None:
        raise OrderNotInLaunch("This launch has no patient, so there is nothing to flag.")
    client = await fhir_for(session, http, settings, app_session, factory)
    resource_type = request.resource_type.value
    try:
        order, facts = await client.gather(
            client.read_as(OrderView, resource_type, request.order_id),
            _read_flag_context(client, app_session),
        )
    except (
        fhir_client.FhirNotFoundError,
        fhir_client.FhirForbiddenError,
        fhir_client.FhirInvalidRequestError,
    ) as exc:
        # Forbidden: a patient-scoped token cannot read another patient's order at all.
        raise OrderNotInLaunch(
            "That order is not one this launch can see; reload the order list."
        ) from exc
    except fhir_client.FhirError as exc:
        raise ehr_unavailable(exc) from exc
    check_order_belongs(order, app_session)
    data = _flag_create(
        app_session,
        request,
        summarize_order(resource_type, order),
        facts,
        price=reference_price(codings(order.concept)),
    )
    return await registry_service.create_flag(
        session, data, secret_key=settings.resolved_secret_key()
    )


def _flag_create(
    app_session: AppSession,
    request: ClinicianFlagIn,
    summary: OrderSummary,
    facts: FlagContext,
    *,
    price: ReferencePrice | None,
) -> FlagCreate:
    """The registry's snapshot of a flag: what the EHR said, and what the clinician chose."""
    encounter = facts.encounter
    return FlagCreate(
        issuer=app_session.issuer,
        idempotency_key=request.idempotency_key,
        anonymity=request.anonymity,
        reporter=ReporterIn(
            fhir_user=app_session.fhir_user or f"session:{app_session.id}",
            role=request.reporter_role,
        ),
        patient=PatientSnapshot(
            fhir_id=app_session.patient_id, age_band=facts.age_band, sex=facts.sex
        ),
        encounter=None
        if encounter is None
        else EncounterSnapshot.model_validate(encounter, from_attributes=True),
        order=OrderSnapshot(
            resource_type=summary.resource_type,
            fhir_id=summary.fhir_id,
            code=CodingIn(
                system=summary.code_system, code=summary.code, display=summary.display[:200]
            ),
            status=summary.status,
            intent=summary.intent,
            authored_on=summary.authored_on,
        ),
        timing=request.timing,
        reason=request.reason,
        driver=request.driver,
        note=request.note,
        estimated_cost=None
        if price is None
        else CostEstimate(amount=price.amount, source=price.source, year=price.year),
    )
