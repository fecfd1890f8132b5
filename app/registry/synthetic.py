"""Realistic synthetic flags for the demo and the benchmarks. Synthetic data only.

Flags are spread over the low-value services in ``shared/clinical/low-value-services.md``
(priced from ``app.registry.costs``), reasons, drivers, departments and a year of weeks, and
each one has a timeline that follows the workflow to its current status. The same seed always
gives the same data.

Rows are written in bulk with SQLAlchemy Core (not through the service) so a million flags
load in minutes; ``tests/registry/test_synthetic.py`` checks the result obeys the same rules
the service enforces.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app.kit.time import week_start
from app.registry.catalog import Anonymity, Driver, Priority, Reason, ReporterRole, Timing
from app.registry.costs import CPT, REFERENCE_PRICES
from app.registry.models import Flag, FlagEvent
from app.registry.service import HIDDEN_REPORTER_NAMES
from app.registry.workflow import Status

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SIMULATED_EHR_ISSUER = "http://127.0.0.1:8100/fhir"


@dataclass(frozen=True)
class Service:
    """A low-value service as ordered: our own plain label, never CPT descriptor text."""

    resource_type: str
    system: str
    code: str
    label: str
    reasons: tuple[Reason, ...]
    notes: tuple[str, ...]
    weight: int


SERVICES: tuple[Service, ...] = (
    Service(
        "ServiceRequest",
        CPT,
        "82306",
        "Vitamin D, 25-hydroxy level",
        (Reason.NOT_INDICATED, Reason.LOW_BENEFIT),
        ("No risk factor documented; routine screening.", "Ordered as part of a wellness panel."),
        14,
    ),
    Service(
        "ServiceRequest",
        CPT,
        "72148",
        "MRI lumbar spine without contrast",
        (Reason.NOT_INDICATED, Reason.LOW_BENEFIT),
        ("Week-one back pain, no red flags on exam.", "Patient asked for imaging; no deficits."),
        12,
    ),
    Service(
        "ServiceRequest",
        CPT,
        "72100",
        "X-ray lumbar spine",
        (Reason.NOT_INDICATED,),
        ("Acute low back pain, day 3, no red flags.",),
        5,
    ),
    Service(
        "ServiceRequest",
        CPT,
        "84153",
        "PSA, total",
        (Reason.LOW_BENEFIT, Reason.NOT_INDICATED),
        ("Screening PSA at 81 with no symptoms.", "Order-set default in annual visit."),
        8,
    ),
    Service(
        "ServiceRequest",
        CPT,
        "71046",
        "Chest X-ray, 2 views (pre-op)",
        (Reason.NOT_INDICATED,),
        ("Pre-op film before cataract surgery, no cardiopulmonary symptoms.",),
        10,
    ),
    Service(
        "ServiceRequest",
        CPT,
        "93306",
        "Echocardiogram, complete (pre-op)",
        (Reason.NOT_INDICATED, Reason.LOW_BENEFIT),
        ("Pre-op echo before hernia repair; normal functional capacity.",),
        4,
    ),
    Service(
        "ServiceRequest",
        CPT,
        "94010",
        "Spirometry (pre-op)",
        (Reason.NOT_INDICATED,),
        ("Routine pre-op spirometry, low-risk surgery.",),
        3,
    ),
    Service(
        "ServiceRequest",
        CPT,
        "85025",
        "Complete blood count (pre-op)",
        (Reason.NOT_INDICATED, Reason.REPEAT_DUPLICATE),
        ("Pre-op labs before cataract surgery.", "CBC repeated; one done last week."),
        9,
    ),
    Service(
        "ServiceRequest",
        CPT,
        "80053",
        "Comprehensive metabolic panel (pre-op)",
        (Reason.NOT_INDICATED, Reason.REPEAT_DUPLICATE),
        ("Pre-op CMP before cataract surgery, no CKD or diabetes.",),
        7,
    ),
    Service(
        "ServiceRequest",
        CPT,
        "85610",
        "Prothrombin time (pre-op)",
        (Reason.NOT_INDICATED,),
        ("Pre-op PT/INR, not on anticoagulants.",),
        4,
    ),
    Service(
        "ServiceRequest",
        CPT,
        "70450",
        "CT head without contrast",
        (Reason.NOT_INDICATED, Reason.LOW_BENEFIT),
        ("Migraine with typical aura, normal neuro exam.", "Simple syncope, no focal signs."),
        8,
    ),
    Service(
        "ServiceRequest",
        CPT,
        "84480",
        "T3, total",
        (Reason.LOW_BENEFIT,),
        ("T3 in treated hypothyroidism on levothyroxine.",),
        3,
    ),
    Service(
        "ServiceRequest",
        CPT,
        "83090",
        "Homocysteine level",
        (Reason.NOT_INDICATED,),
        ("No folate or B12 deficiency suspected.",),
        2,
    ),
    Service(
        "ServiceRequest",
        CPT,
        "83970",
        "Parathyroid hormone (CKD 3)",
        (Reason.LOW_BENEFIT,),
        ("PTH in CKD stage 3, not on dialysis.",),
        2,
    ),
    Service(
        "ServiceRequest",
        CPT,
        "77080",
        "DXA bone density scan",
        (Reason.REPEAT_DUPLICATE, Reason.NOT_INDICATED),
        ("Repeat DXA 14 months after a normal one.",),
        4,
    ),
    Service(
        "ServiceRequest",
        CPT,
        "70486",
        "CT maxillofacial (sinus) without contrast",
        (Reason.NOT_INDICATED,),
        ("Acute sinusitis, 5 days, uncomplicated.",),
        2,
    ),
    Service(
        "ServiceRequest",
        CPT,
        "93880",
        "Carotid duplex ultrasound",
        (Reason.NOT_INDICATED,),
        ("Carotid imaging for simple syncope.",),
        2,
    ),
    Service(
        "MedicationRequest",
        RXNORM,
        "308182",
        "Amoxicillin 500 mg oral capsule",
        (Reason.NOT_INDICATED,),
        ("Antibiotic for a viral URI, day 2.", "Acute bronchitis, no pneumonia signs."),
        8,
    ),
    Service(
        "MedicationRequest",
        RXNORM,
        "308460",
        "Azithromycin 250 mg oral tablet",
        (Reason.NOT_INDICATED, Reason.LOWER_COST_ALTERNATIVE),
        ("Z-pack for a cold at patient request.",),
        5,
    ),
)

DEPARTMENTS = (
    "Emergency Department",
    "Primary Care - Riverside",
    "Primary Care - Northgate",
    "Pre-operative Clinic",
    "Orthopaedics",
    "Internal Medicine",
    "Neurology",
    "Urgent Care",
    "Endocrinology",
    "Cardiology",
)
ENCOUNTER_CLASSES = (("AMB", 70), ("EMER", 20), ("IMP", 10))
DRIVERS: tuple[tuple[Driver | None, int], ...] = (
    (Driver.DEFENSIVE_MEDICINE, 25),
    (Driver.PATIENT_REQUEST, 20),
    (Driver.ORDER_SET_DEFAULT, 15),
    (Driver.PROTOCOL, 10),
    (Driver.SPECIALIST_REQUEST, 8),
    (Driver.MISSING_PRIOR_RESULT, 8),
    (Driver.PAYER_RULE, 4),
    (Driver.OTHER, 5),
    (None, 5),
)
FINAL_STATUSES: tuple[tuple[Status, int], ...] = (
    (Status.SUBMITTED, 22),
    (Status.TRIAGED, 14),
    (Status.ACCEPTED, 14),
    (Status.ACTION_TAKEN, 10),
    (Status.CLOSED, 22),
    (Status.NEEDS_INFO, 5),
    (Status.NOT_LOW_VALUE, 9),
    (Status.DUPLICATE, 4),
)
# The chain of statuses that leads to each final status.
PATHS: dict[Status, tuple[Status, ...]] = {
    Status.SUBMITTED: (),
    Status.TRIAGED: (Status.TRIAGED,),
    Status.ACCEPTED: (Status.TRIAGED, Status.ACCEPTED),
    Status.ACTION_TAKEN: (Status.TRIAGED, Status.ACCEPTED, Status.ACTION_TAKEN),
    Status.CLOSED: (Status.TRIAGED, Status.ACCEPTED, Status.ACTION_TAKEN, Status.CLOSED),
    Status.NEEDS_INFO: (Status.TRIAGED, Status.NEEDS_INFO),
    Status.NOT_LOW_VALUE: (Status.TRIAGED, Status.NOT_LOW_VALUE),
    Status.DUPLICATE: (Status.TRIAGED, Status.DUPLICATE),
}
REPLIES: dict[Status, str] = {
    Status.CLOSED: "Thank you. We removed this test from the default order set; the change is "
    "live and the department lead owns the follow-up.",
    Status.NOT_LOW_VALUE: "Thanks for flagging. On review this order was appropriate for this "
    "patient's history, so no change is planned.",
    Status.DUPLICATE: "Thanks. This is already being worked on under an earlier flag; we will "
    "report back there.",
    Status.NEEDS_INFO: "Thanks. Was this order placed from an order set or typed in by hand?",
}
ANALYSTS = ("Quality analyst A. Rivera", "Quality analyst M. Chen", "Quality analyst K. Okafor")
LEADS = (
    ("Dr. P. Lindqvist", "S. Moreau (operations)"),
    ("Dr. H. Tanaka", "R. Alvarez (operations)"),
    ("Dr. E. Nwosu", None),
    ("Dr. L. Fischer", None),
)
FIRST_NAMES = ("Avery", "Jordan", "Riley", "Casey", "Morgan", "Quinn", "Parker", "Rowan", "Sage")
LAST_NAMES = ("Synthea", "Example", "Sample", "Testa", "Mock", "Demo", "Placeholder")
AGE_BANDS = (("18-34", 12), ("35-49", 16), ("50-64", 24), ("65-74", 22), ("75-84", 18), ("85+", 8))


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


class SyntheticRegistry:
    """Generates flags with their timelines, deterministically from ``seed``."""

    def __init__(self, *, seed: int = 1, now: datetime | None = None, weeks: int = 52) -> None:
        self.rng = random.Random(seed)
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
        price = REFERENCE_PRICES.get((service.system, service.code))
        reporter = rng.choice(self.reporters)
        anonymity = _pick(
            rng,
            ((Anonymity.IDENTIFIED, 75), (Anonymity.CONFIDENTIAL, 15), (Anonymity.ANONYMOUS, 10)),
        )
        anonymous = anonymity is Anonymity.ANONYMOUS
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
        encounter_start = created - timedelta(minutes=rng.randint(5, 240))

        events, at, first_reply, owned = self._timeline(
            flag_id, created, final, reporter, anonymity, analyst, lead, operational
        )
        flag = {
            "id": flag_id,
            "created_at": created,
            "created_week": week_start(created),
            "updated_at": at,
            "version": 1 + len({event["at"] for event in events[1:]}),
            "issuer": SIMULATED_EHR_ISSUER,
            "idempotency_key": uuid.UUID(int=rng.getrandbits(128), version=4).hex,
            "idempotency_scope": "" if anonymous else reporter.fhir_user,
            "request_fingerprint": hashlib.sha256(flag_id.bytes).hexdigest(),
            "anonymity": anonymity.value,
            "reporter_fhir_user": None if anonymous else reporter.fhir_user,
            "reporter_display": None if anonymous else reporter.display,
            "reporter_role": reporter.role.value,
            "reporter_department": None if anonymous else reporter.department,
            "receipt_token_hash": (
                hashlib.sha256(_uuid(rng).bytes).hexdigest() if anonymous else None
            ),
            "patient_fhir_id": f"synth-pt-{rng.randint(1, 5000):05d}",
            "patient_age_band": _pick(rng, AGE_BANDS),
            "patient_sex": rng.choice(("female", "male")),
            "encounter_fhir_id": f"synth-enc-{self.serial:07d}",
            "encounter_class": encounter_class,
            "encounter_type": "Office visit" if encounter_class == "AMB" else None,
            "department": department,
            "encounter_start": encounter_start,
            "encounter_end": None if encounter_class == "IMP" else created + timedelta(hours=1),
            "order_resource_type": service.resource_type,
            "order_fhir_id": f"synth-ord-{self.serial:07d}",
            "order_code_system": service.system,
            "order_code": service.code,
            "order_display": service.label,
            "order_status": rng.choice(("active", "active", "completed", "draft")),
            "order_intent": "order",
            "order_authored_on": encounter_start + timedelta(minutes=rng.randint(1, 30)),
            "order_requester_role": rng.choice(
                ("Attending physician", "Resident", "Nurse practitioner")
            ),
            "timing": rng.choice((Timing.BEFORE.value, Timing.AFTER.value)),
            "reason": rng.choice(service.reasons).value,
            "driver": (driver.value if (driver := _pick(rng, DRIVERS)) else None),
            "note": rng.choice((*service.notes, None)),
            "estimated_cost_cents": price.cents if price else None,
            "cost_source": price.source if price else None,
            "cost_year": price.year if price else None,
            "status": final.value,
            "priority": _pick(
                rng,
                (
                    (Priority.LOW, 15),
                    (Priority.NORMAL, 65),
                    (Priority.HIGH, 15),
                    (Priority.URGENT, 5),
                ),
            ).value,
            "tags": [],
            "owner_lead": lead if owned else None,
            "owner_operational_lead": operational if owned else None,
            "duplicate_of_id": duplicate_of if final is Status.DUPLICATE else None,
            "first_reply_at": first_reply,
            "reply_wait_seconds": (
                (first_reply - created).total_seconds() if first_reply else None
            ),
        }
        return flag, events

    def _timeline(
        self,
        flag_id: uuid.UUID,
        created: datetime,
        final: Status,
        reporter: _Reporter,
        anonymity: Anonymity,
        analyst: str,
        lead: str,
        operational: str | None,
    ) -> tuple[list[dict[str, Any]], datetime, datetime | None, bool]:
        rng = self.rng
        path = PATHS[final]
        # Spread the steps over the time the flag has existed, never into the future.
        available = (self.now - created).total_seconds()
        gaps = [rng.uniform(0.5, 72) * 3600 for _ in path]
        scale = min(1.0, available * 0.95 / sum(gaps)) if gaps else 1.0

        def event(at: datetime, kind: str, actor: str, role: str, **fields: Any) -> dict[str, Any]:
            row = {
                "flag_id": flag_id,
                "at": at,
                "kind": kind,
                "actor_name": actor,
                "actor_role": role,
                "from_status": None,
                "to_status": None,
                "body": None,
                "visible_to_reporter": False,
                "details": None,
            }
            row.update(fields)
            return row

        events = [
            event(
                created,
                "created",
                HIDDEN_REPORTER_NAMES.get(anonymity) or reporter.display,
                reporter.role.value,
                to_status=Status.SUBMITTED.value,
            )
        ]
        at, current, first_reply, owned = created, Status.SUBMITTED, None, False
        for gap, target in zip(gaps, path, strict=True):
            at = at + timedelta(seconds=gap * scale)
            if target is Status.ACCEPTED:
                owner = (
                    {"lead": lead}
                    if operational is None
                    else {"clinical_lead": lead, "operational_lead": operational}
                )
                events.append(event(at, "assignment", analyst, "analyst", details=owner))
                owned = True
            events.append(
                event(
                    at,
                    "status_change",
                    analyst,
                    "analyst",
                    from_status=current.value,
                    to_status=target.value,
                )
            )
            if target in REPLIES:
                events.append(
                    event(
                        at,
                        "reply",
                        analyst,
                        "analyst",
                        body=REPLIES[target],
                        visible_to_reporter=True,
                    )
                )
                first_reply = first_reply or at
            current = target
        return events, at, first_reply, owned


def insert_batch(
    connection: sa.Connection, flags: list[dict[str, Any]], events: list[dict[str, Any]]
) -> None:
    connection.execute(sa.insert(Flag), flags)
    connection.execute(sa.insert(FlagEvent), events)


def seed(engine: sa.Engine, count: int, *, seed: int = 1, now: datetime | None = None) -> int:
    """Write ``count`` synthetic flags with their timelines; one transaction per batch."""
    generator = SyntheticRegistry(seed=seed, now=now)
    written = 0
    for flags, events in generator.batches(count):
        with engine.begin() as connection:
            insert_batch(connection, flags, events)
        written += len(flags)
    return written
