"""Realistic synthetic flags for the demo and the benchmarks. Synthetic data only.

Flags are spread over the low-value services in ``shared/clinical/low-value-services.md``
(priced from ``app.flags.costs``), reasons, drivers, departments and a year of weeks, and
each one has a timeline that follows the workflow to its current status. The same seed always
gives the same data.

Each flag is built as the clinician side sends one and stored as the service stores one
(``app.flags.service.flag_row``), then moved on as its timeline says. Rows are written in bulk
with SQLAlchemy Core (not through the service) so a million flags load in minutes;
``tests/demo/test_synthetic.py`` checks the result obeys the same rules the service enforces.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.demo.choices import (
    AGE_BANDS,
    ANALYSTS,
    ANONYMITY,
    DEPARTMENTS,
    DIRECTORY,
    DRIVERS,
    ENCOUNTER_CLASSES,
    FINAL_STATUSES,
    FIRST_NAMES,
    LAST_NAMES,
    LEADS,
    PATHS,
    PRIORITIES,
    REPLIES,
    SERVICES,
    SIMULATED_EHR_ISSUER,
    DemoPerson,
    Service,
)
from app.flags.anonymity import identity_kept, reporter_name
from app.flags.catalog import Anonymity, ReporterRole, Timing
from app.flags.costs import REFERENCE_PRICES
from app.flags.models import EventKind, Flag, FlagEvent
from app.flags.schemas import (
    CodingIn,
    CostEstimate,
    EncounterSnapshot,
    FlagCreate,
    OrderSnapshot,
    PatientSnapshot,
    ReporterIn,
)
from app.flags.service import flag_row
from app.flags.workflow import END_STATES, Status
from app.organizations.models import DEFAULT_ORGANIZATION_ID
from app.staff.models import Staff


def _pick(rng: random.Random, weighted: tuple[tuple[Any, int], ...]) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


@dataclass
class _Reporter:
    fhir_user: str
    display: str
    role: ReporterRole
    department: str


def _reporters(rng: random.Random, count: int = 60) -> list[_Reporter]:
    roles = (
        (ReporterRole.PHYSICIAN, 40),
        (ReporterRole.RESIDENT, 15),
        (ReporterRole.ADVANCED_PRACTICE_PROVIDER, 15),
        (ReporterRole.NURSE, 20),
        (ReporterRole.PHARMACIST, 10),
    )
    people = []
    for number in range(1, count + 1):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {number:03d}"
        people.append(
            _Reporter(
                fhir_user=f"Practitioner/synth-pr-{number:04d}",
                display=name,
                role=_pick(rng, roles),
                department=rng.choice(DEPARTMENTS),
            )
        )
    return people


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class SyntheticRegistry:
    """Generates flags with their timelines, deterministically from ``seed``."""

    def __init__(
        self,
        *,
        seed: int = 1,
        now: datetime | None = None,
        weeks: int = 52,
        organizations: Sequence[uuid.UUID] = (DEFAULT_ORGANIZATION_ID,),
    ) -> None:
        """``organizations``: the flags are dealt to them in turn (not drawn from the random
        sequence, so a seed gives the same flags however many organizations share them)."""
        self.rng = random.Random(seed)
        self.organizations = tuple(organizations)
        self.now = now or datetime.now(UTC)
        self.weeks = weeks
        self.reporters = _reporters(self.rng)
        self.services_weighted = tuple((service, service.weight) for service in SERVICES)
        self.last_by_service: dict[str, uuid.UUID] = {}
        self.serial = 0

    def batches(
        self, total: int, size: int = 5000
    ) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
        """(flag rows, event rows) in batches, each flag before its events."""
        made = 0
        while made < total:
            flags: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            for _ in range(min(size, total - made)):
                flag, timeline = self._one()
                flags.append(flag)
                events.extend(timeline)
            made += len(flags)
            yield flags, events

    def _one(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        rng = self.rng
        self.serial += 1
        service: Service = _pick(rng, self.services_weighted)
        reporter = rng.choice(self.reporters)
        anonymity: Anonymity = _pick(rng, ANONYMITY)
        span = timedelta(weeks=self.weeks).total_seconds()
        created = self.now - timedelta(seconds=rng.uniform(3600, span))
        final: Status = _pick(rng, FINAL_STATUSES)
        flag_id = _uuid(rng)
        duplicate_of = self.last_by_service.get(service.code) if final is Status.DUPLICATE else None
        if final is Status.DUPLICATE and duplicate_of is None:
            final = Status.NOT_LOW_VALUE
        if final is not Status.DUPLICATE:  # an original is never itself a duplicate
            self.last_by_service[service.code] = flag_id
        department = rng.choice(DEPARTMENTS)
        encounter_class = _pick(rng, ENCOUNTER_CLASSES)
        lead, operational = rng.choice(LEADS)
        analyst = rng.choice(ANALYSTS)
        started = created - timedelta(minutes=rng.randint(5, 240))
        encounter = EncounterSnapshot(
            fhir_id=f"synth-enc-{self.serial:07d}",
            class_code=encounter_class,
            type="Office visit" if encounter_class == "AMB" else None,
            department=department,
            start=started,
            end=None if encounter_class == "IMP" else created + timedelta(hours=1),
        )

        events, at, first_reply, owned = self._timeline(
            flag_id, created, final, reporter, anonymity, analyst, lead, operational
        )
        key = _uuid(rng).hex
        receipt_hash = None if identity_kept(anonymity) else _sha256(_uuid(rng).bytes)
        data = self._flag_create(service, reporter, anonymity, key, encounter, started)
        row = flag_row(
            data,
            organization_id=self.organizations[self.serial % len(self.organizations)],
            now=created,
            fingerprint=_sha256(flag_id.bytes),
            receipt_hash=receipt_hash,
        )
        # Where the workflow has taken the flag since, as its timeline tells.
        row.update(
            id=flag_id,
            updated_at=at,
            version=1 + len({event["at"] for event in events[1:]}),
            status=final,
            owner_lead_id=lead.id if owned else None,
            owner_operational_lead_id=operational.id if owned and operational else None,
            duplicate_of_id=duplicate_of if final is Status.DUPLICATE else None,
            first_reply_at=first_reply,
            reply_wait_seconds=(first_reply - created).total_seconds() if first_reply else None,
            closed_at=at if final in END_STATES else None,
            close_wait_seconds=(at - created).total_seconds() if final in END_STATES else None,
        )
        return row, events

    def _flag_create(
        self,
        service: Service,
        reporter: _Reporter,
        anonymity: Anonymity,
        key: str,
        encounter: EncounterSnapshot,
        started: datetime,
    ) -> FlagCreate:
        """The flag as the clinician side sends it (its random choices in a fixed order, so a
        seed keeps giving the same data)."""
        rng = self.rng
        price = REFERENCE_PRICES.get((service.system, service.code))
        return FlagCreate(
            issuer=SIMULATED_EHR_ISSUER,
            idempotency_key=key,
            anonymity=anonymity,
            reporter=ReporterIn(
                fhir_user=reporter.fhir_user,
                display=reporter.display,
                role=reporter.role,
                department=reporter.department,
            ),
            patient=PatientSnapshot(
                fhir_id=f"synth-pt-{rng.randint(1, 5000):05d}",
                age_band=_pick(rng, AGE_BANDS),
                sex=rng.choice(("female", "male")),
            ),
            encounter=encounter,
            order=OrderSnapshot(
                resource_type=service.resource_type,
                fhir_id=f"synth-ord-{self.serial:07d}",
                code=CodingIn(system=service.system, code=service.code, display=service.label),
                status=rng.choice(("active", "active", "completed", "draft")),
                intent="order",
                authored_on=started + timedelta(minutes=rng.randint(1, 30)),
                requester_role=rng.choice(
                    ("Attending physician", "Resident", "Nurse practitioner")
                ),
            ),
            timing=rng.choice((Timing.BEFORE, Timing.AFTER)),
            reason=rng.choice(service.reasons),
            driver=_pick(rng, DRIVERS),
            note=rng.choice((*service.notes, None)),
            estimated_cost=CostEstimate.of(price),
            priority=_pick(rng, PRIORITIES),
        )

    def _timeline(
        self,
        flag_id: uuid.UUID,
        created: datetime,
        final: Status,
        reporter: _Reporter,
        anonymity: Anonymity,
        analyst: DemoPerson,
        lead: DemoPerson,
        operational: DemoPerson | None,
    ) -> tuple[list[dict[str, Any]], datetime, datetime | None, bool]:
        """The flag's events from its creation along the path to ``final``, the last moment,
        the first reply, and whether an owner was assigned."""
        rng = self.rng
        path = PATHS[final]
        # Spread the steps over the time the flag has existed, never into the future.
        available = (self.now - created).total_seconds()
        gaps = [rng.uniform(0.5, 72) * 3600 for _ in path]
        scale = min(1.0, available * 0.95 / sum(gaps)) if gaps else 1.0
        name = reporter_name(anonymity, reporter.display)
        events = [
            _event(
                flag_id,
                created,
                EventKind.CREATED,
                name,
                reporter.role.value,
                to_status=Status.SUBMITTED.value,
            )
        ]
        owner = (
            {"lead": lead.name, "lead_id": str(lead.id)}
            if operational is None
            else {
                "clinical_lead": lead.name,
                "clinical_lead_id": str(lead.id),
                "operational_lead": operational.name,
                "operational_lead_id": str(operational.id),
            }
        )
        at, current, first_reply = created, Status.SUBMITTED, None
        for gap, target in zip(gaps, path, strict=True):
            stay = gap * scale
            at = at + timedelta(seconds=stay)
            events += _move(flag_id, at, analyst, current, target, owner, stay)
            if target in REPLIES:
                first_reply = first_reply or at
            current = target
        return events, at, first_reply, Status.ACCEPTED in path


def _event(
    flag_id: uuid.UUID,
    at: datetime,
    kind: EventKind,
    actor: str | DemoPerson,
    role: str,
    **fields: Any,
) -> dict[str, Any]:
    """A timeline row; a staff member acts with their name and id, a reporter by name."""
    row = {
        "flag_id": flag_id,
        "at": at,
        "kind": kind,
        "actor_name": actor.name if isinstance(actor, DemoPerson) else actor,
        "actor_role": role,
        "actor_staff_id": actor.id if isinstance(actor, DemoPerson) else None,
        "from_status": None,
        "to_status": None,
        "body": None,
        "visible_to_reporter": False,
        "details": None,
        "status_seconds": None,
    }
    row.update(fields)
    return row


def _move(
    flag_id: uuid.UUID,
    at: datetime,
    analyst: DemoPerson,
    current: Status,
    target: Status,
    owner: dict[str, str],
    stay: float,
) -> list[dict[str, Any]]:
    """An analyst's move from ``current`` to ``target``, with the owner accepting needs and the
    reply the move owes the reporter."""
    events = []
    if target is Status.ACCEPTED:
        events.append(_event(flag_id, at, EventKind.ASSIGNMENT, analyst, "analyst", details=owner))
    events.append(
        _event(
            flag_id,
            at,
            EventKind.STATUS_CHANGE,
            analyst,
            "analyst",
            from_status=current.value,
            to_status=target.value,
            status_seconds=stay,
        )
    )
    if target in REPLIES:
        events.append(
            _event(
                flag_id,
                at,
                EventKind.REPLY,
                analyst,
                "analyst",
                body=REPLIES[target],
                visible_to_reporter=True,
            )
        )
    return events


def insert_batch(
    connection: sa.Connection, flags: list[dict[str, Any]], events: list[dict[str, Any]]
) -> None:
    connection.execute(sa.insert(Flag), flags)
    connection.execute(sa.insert(FlagEvent), events)


def seed_directory(engine: sa.Engine, *, now: datetime | None = None) -> int:
    """Add the demo's staff directory (leads, analysts, an admin, someone deactivated), the
    people synthetic flags are owned and worked by; those already there are left as they are.
    Returns how many were added."""
    moment = now or datetime.now(UTC)
    with engine.begin() as connection:
        present = set(connection.execute(sa.select(col(Staff.id))).scalars())
        missing = [
            {
                "id": person.id,
                "name": person.name,
                "email": person.email,
                "role": person.role,
                "active": person.active,
                "created_at": moment,
                "deactivated_at": None if person.active else moment,
            }
            for person in DIRECTORY
            if person.id not in present
        ]
        if missing:
            connection.execute(sa.insert(Staff), missing)
    return len(missing)


def seed(
    engine: sa.Engine,
    count: int,
    *,
    seed: int = 1,
    now: datetime | None = None,
    organizations: Sequence[uuid.UUID] = (DEFAULT_ORGANIZATION_ID,),
) -> int:
    """Write ``count`` synthetic flags with their timelines (and, first, the directory of the
    people who own them), dealt in turn to ``organizations``; one transaction per batch."""
    seed_directory(engine, now=now)
    generator = SyntheticRegistry(seed=seed, now=now, organizations=organizations)
    written = 0
    for flags, events in generator.batches(count):
        with engine.begin() as connection:
            insert_batch(connection, flags, events)
        written += len(flags)
    return written
