"""What a flag and the in-EHR page take of the launch's patient and encounter, read from the
EHR: the patient banner, the encounter, its orders, and the facts a flag snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.patient import Patient
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

import fhir_client
from app.clinician.access import ClinicianAccess
from app.clinician.errors import OrderNotInLaunch
from app.clinician.markers import judge_orders
from app.clinician.orders import (
    OrderSummary,
    OrderView,
    ReferenceView,
    concept_text,
    summarize_order,
)
from app.clinician.schemas import LowValueMarker
from app.flags.catalog import AgeBand
from app.launch import repository
from app.launch.identity import email_address, person_name
from app.launch.models import AppSession


def age_band(patient: Patient, today: date) -> AgeBand | None:
    born = patient.birthDate
    return AgeBand.on(born, today) if isinstance(born, date) else None


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
    (``AppSession.flag_context``), so submitting a flag re-reads only the order itself. With it
    is what the low-value rules found of each order then: the server's own evaluation, so a
    flag's rule agreement never comes from the client and costs no second evaluation.
    """

    age_band: AgeBand | None
    sex: str | None
    encounter: EncounterFacts | None
    # Per order ("Type/id") the low-value rules ran on, the (rule id, rule version) pairs that
    # found it low-value: a flag records them as the rules' agreement (app.rules.agreement).
    # None when the rules did not run (the session read no context).
    low_value_rules: dict[str, list[tuple[str, str]]] | None = None

    def rules_agreed(self, resource_type: str, fhir_id: str) -> list[tuple[str, str]] | None:
        """The rules that found this order low-value when the page read it; None when no rule
        ran on it (an order the page did not show, or no context read)."""
        if self.low_value_rules is None:
            return None
        return self.low_value_rules.get(f"{resource_type}/{fhir_id}")

    @classmethod
    def read_from(
        cls,
        patient: Patient,
        encounter: Encounter | None,
        low_value_rules: dict[str, list[tuple[str, str]]] | None = None,
    ) -> FlagContext:
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
            low_value_rules=low_value_rules,
        )


@dataclass(frozen=True)
class ClinicianContext:
    patient: dict[str, Any]
    encounter: dict[str, Any] | None
    orders: list[OrderSummary]
    warnings: list[str]
    flag_context: FlagContext
    user: fhir_client.FhirUser | None = None
    # Per order ("Type/id"), the rules that judge it low-value; unmarked orders are absent.
    markers: dict[str, list[LowValueMarker]] = field(default_factory=dict)


async def load_context(access: ClinicianAccess) -> ClinicianContext:
    """The patient, encounter and its orders, read concurrently from the EHR, and the orders
    the low-value rules judge low-value."""
    app_session = access.app_session
    assert app_session.patient_id is not None
    client = await access.fhir()
    data = await fhir_client.fetch_launch_context(
        client,
        patient_id=app_session.patient_id,
        encounter_id=app_session.encounter_id,
        readable=access.readable,
        fhir_user=app_session.fhir_user,
    )
    orders = [
        summarize_order(order.get_resource_type(), OrderView.of(order))
        for order in (*data.service_requests, *data.medication_requests)
    ]
    orders.sort(key=lambda o: o.authored_on or datetime.min.replace(tzinfo=UTC), reverse=True)
    judged = await judge_orders(client, data, await access.rule_variants())
    facts = FlagContext.read_from(data.patient, data.encounter, judged.found())
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
        user=data.user,
        markers=judged.markers(),
    )


async def keep_learned(
    session: AsyncSession, app_session: AppSession, data: ClinicianContext
) -> None:
    """Keep in the app session what flags snapshot of the patient and encounter, and who is
    signed in (the fhirUser resource's name and email, each over the id_token's claim), so
    a flag needs neither read again. Written only when something changed: reloading the page
    writes nothing."""
    user = data.user
    name = person_name(user.name) if user else None
    email = email_address(user.email) if user else None
    learned: dict[str, Any] = {
        "flag_context": data.flag_context.model_dump(mode="json"),
        "reporter_name": name or app_session.reporter_name,
        "reporter_email": email or app_session.reporter_email,
    }
    changed = {
        name: value for name, value in learned.items() if getattr(app_session, name) != value
    }
    if changed:
        await repository.keep_learned(session, app_session.id, changed)
        for name, value in changed.items():
            setattr(app_session, name, value)


def today_utc() -> date:
    return datetime.now(UTC).date()


async def read_flag_context(client: fhir_client.FhirClient, app_session: AppSession) -> FlagContext:
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
