"""Deterministic synthetic patients for the simulated EHR, as FHIR R4 resources.

``generate(seed, patients, now)`` returns plain FHIR R4 JSON dicts: the health system
(Organization, Location, Practitioner, PractitionerRole, payers), then per patient a Patient,
maybe a Coverage, the problem list, and 1-4 Encounters with their diagnoses, vital signs,
orders (ServiceRequest, MedicationRequest), lab results and procedures. Every reference is
relative (``Patient/pat-00001``) and resolves within the list.

Determinism: every random choice comes from one ``random.Random(seed)`` and no choice depends
on ``now``; dates are offsets back from ``now``. So the same seed gives the same ids and the
same clinical story for any ``now``, only dated differently, and the same seed and ``now`` give
identical output. ``now`` defaults to today's midnight UTC, which keeps the output stable for
a whole UTC day; pass ``now`` explicitly when a test needs a fixed result.

Each patient's newest encounter is in progress at ``now`` (the "current" encounter a SMART
launch opens). A good share of encounters carry a low-value order next to the diagnosis that
makes it low value (``shared/clinical/low-value-services.md``): imaging for uncomplicated low
back pain, vitamin D without a risk condition, PSA in men 75 and over, pre-operative tests
before cataract or hernia surgery, head imaging for migraine or syncope, antibiotics for a
cold or acute bronchitis, T3 in hypothyroidism, and more. Alongside them are appropriate
versions of the same orders (lumbar MRI with cancer or fever, antibiotics for strep throat,
PSA surveillance after prostate cancer) so not everything is low value. Nothing in the
output marks an order as low value: that is ValueLoop's job to work out.

All names are invented, with digits after them the way Synthea does, so nobody mistakes a
synthetic patient for a real one.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from ehr_sim.data import codes as c
from ehr_sim.data.codes import Code, Diagnosis, Drug, Orderable, VisitType
from ehr_sim.store import Resource

T = TypeVar("T")

HEALTH_SYSTEM_ID = "org-maple-valley-health"
COMMERCIAL_PAYER_ID = "org-evergreen-mutual"
SENIOR_PAYER_ID = "org-silverline-senior"
TOWNS = ("Brindlewood", "Cedar Hollow", "Marrow Ford", "Quillby", "Northfen")


def generate(
    seed: int = 1, patients: int = 120, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Synthetic FHIR R4 resources: the health system, then ``patients`` patients' records.

    ``now`` must be timezone-aware; it defaults to today's midnight UTC.

    >>> resources = generate(seed=1, patients=3, now=datetime(2025, 1, 6, 9, 0, tzinfo=UTC))
    >>> sum(r["resourceType"] == "Patient" for r in resources)
    3
    """
    if patients < 0:
        raise ValueError("patients must be zero or more")
    if now is None:
        now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    elif now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    builder = _Builder(seed, now.astimezone(UTC))
    builder.health_system()
    for _ in range(patients):
        builder.patient()
    return builder.resources


# --- The health system ------------------------------------------------------------------


@dataclass(frozen=True)
class _Department:
    key: str
    name: str
    type: Code | None
    type_text: str
    encounter_class: Code
    staff: tuple[Code, ...]  # one specialty per practitioner


def _role_type(code: str, display: str) -> Code:
    return Code(c.ROLE_CODE, code, display)


_DEPARTMENTS = (
    _Department(
        "emergency",
        "Emergency Department",
        _role_type("ER", "Emergency room"),
        "Emergency Department",
        c.EMERGENCY,
        (c.EMERGENCY_MEDICINE,) * 4,
    ),
    _Department(
        "primary-care-north",
        "Northside Primary Care",
        _role_type("FMC", "Family medicine clinic"),
        "Primary Care Clinic",
        c.AMBULATORY,
        (c.FAMILY_MEDICINE,) * 3 + (c.INTERNAL_MEDICINE, c.NURSE_PRACTITIONER),
    ),
    _Department(
        "primary-care-riverside",
        "Riverside Primary Care",
        _role_type("FMC", "Family medicine clinic"),
        "Primary Care Clinic",
        c.AMBULATORY,
        (c.FAMILY_MEDICINE,) * 2 + (c.INTERNAL_MEDICINE,) * 2 + (c.NURSE_PRACTITIONER,),
    ),
    _Department(
        "urgent-care",
        "Urgent Care",
        None,
        "Urgent Care",
        c.AMBULATORY,
        (c.FAMILY_MEDICINE, c.FAMILY_MEDICINE, c.NURSE_PRACTITIONER),
    ),
    _Department(
        "pre-op",
        "Pre-operative Clinic",
        None,
        "Pre-operative Assessment Clinic",
        c.AMBULATORY,
        (c.INTERNAL_MEDICINE, c.NURSE_PRACTITIONER, c.GENERAL_SURGERY),
    ),
    _Department(
        "orthopaedics",
        "Orthopaedics",
        None,
        "Orthopaedics Clinic",
        c.AMBULATORY,
        (c.ORTHOPAEDIC_SURGERY,) * 2,
    ),
    _Department(
        "neurology", "Neurology", None, "Neurology Clinic", c.AMBULATORY, (c.NEUROLOGY,) * 2
    ),
    _Department(
        "endocrinology",
        "Endocrinology",
        None,
        "Endocrinology Clinic",
        c.AMBULATORY,
        (c.ENDOCRINOLOGY,) * 2,
    ),
    _Department(
        "medicine-ward",
        "Internal Medicine Ward",
        _role_type("HU", "Hospital unit"),
        "Inpatient Ward",
        c.INPATIENT,
        (c.INTERNAL_MEDICINE,) * 3,
    ),
    _Department(
        "ophthalmology",
        "Ophthalmology",
        None,
        "Ophthalmology Clinic",
        c.AMBULATORY,
        (c.OPHTHALMOLOGY,) * 2,
    ),
)
_PRIMARY_CARE = ("primary-care-north", "primary-care-riverside")


@dataclass(frozen=True)
class _Clinician:
    id: str
    name: str
    specialty: Code


@dataclass
class _Site:
    department: _Department
    location_id: str
    staff: list[_Clinician] = field(default_factory=list)


# --- Patients and visits ----------------------------------------------------------------


@dataclass
class _Patient:
    id: str
    name: str
    gender: str
    age: int
    birthday_days_ago: int  # the latest birthday was this many days before ``now``
    home: _Site
    pcp: _Clinician
    weight_kg: float
    problems: dict[Diagnosis, str] = field(default_factory=dict)
    chronic_drugs: list[tuple[Drug, Diagnosis | None]] = field(default_factory=list)
    chronic_orders: dict[Drug, list[Resource]] = field(default_factory=dict)

    def has(self, *diagnoses: Diagnosis) -> bool:
        return any(diagnosis in self.problems for diagnosis in diagnoses)

    def age_at(self, days_ago: int) -> int:
        """A lower bound on the age ``days_ago`` days before now (exact after the birthday)."""
        if days_ago + 2 < self.birthday_days_ago:
            return self.age
        return self.age - 1 - (days_ago + 2) // 365

    @property
    def cancer(self) -> Diagnosis | None:
        for diagnosis in (c.BREAST_CANCER, c.PROSTATE_CANCER):
            if diagnosis in self.problems:
                return diagnosis
        return None


@dataclass
class _Visit:
    id: str
    patient: _Patient
    site: _Site
    clinician: _Clinician
    start: datetime
    minutes: int  # how long the visit lasted, or has lasted so far if it is current
    days_ago: int
    current: bool
    age: int  # lower bound on the patient's age at the visit
    diagnoses: list[str] = field(default_factory=list)

    @property
    def end(self) -> datetime | None:
        return None if self.current else self.start + timedelta(minutes=self.minutes)

    @property
    def emergency_or_inpatient(self) -> bool:
        return self.site.department.encounter_class != c.AMBULATORY


# --- Output helpers ---------------------------------------------------------------------


def fhir_instant(moment: datetime) -> str:
    """A FHIR instant in UTC, to the second (also for the chart's own orders and the
    showcase patient)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ref(resource_type: str, resource_id: str, display: str | None = None) -> dict[str, str]:
    reference = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        reference["display"] = display
    return reference


def _status(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def concept(*codes: Code, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    if codes:
        concept["coding"] = [code.coding() for code in codes]
    if text:
        concept["text"] = text
    return concept


def service_category(key: str) -> dict[str, Any]:
    code = c.SERVICE_CATEGORIES[key]
    return concept(code) if code else concept(text=key.capitalize())


def _shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


_FEMALE_NAMES = (
    "Adaeze", "Brigida", "Corinne", "Delphine", "Esperanza", "Fenella", "Gwendolyn", "Hana",
    "Ilse", "Jolanta", "Kalani", "Leontine", "Marisol", "Nerys", "Oriana", "Petra", "Quilla",
    "Rosalind", "Saoirse", "Thandiwe", "Ulla", "Verity", "Wilhelmina", "Xiomara", "Yevgenia",
)  # fmt: skip
_MALE_NAMES = (
    "Abelard", "Bartholomew", "Casimir", "Desmond", "Eberhard", "Fitzgerald", "Gideon",
    "Horatio", "Ignatius", "Jarrah", "Kwabena", "Leopold", "Mordecai", "Nikodem", "Osvaldo",
    "Percival", "Quentin", "Rafferty", "Sebastiano", "Thaddeus", "Ulysses", "Valentin",
    "Wendell", "Xander", "Yannick",
)  # fmt: skip
_FAMILY_NAMES = (
    "Abernathy", "Blackwood", "Castellano", "Dunmore", "Eskildsen", "Fairweather", "Galloway",
    "Hargreaves", "Ingleby", "Jablonski", "Kettering", "Lindqvist", "Marchetti", "Nightingale",
    "Okonkwo", "Pemberton", "Quisling", "Rosenthal", "Sandoval", "Thistlewood", "Underhill",
    "Vasquez", "Whitlock", "Yardley", "Zimmermann", "Ashcombe", "Brightwater", "Coldharbour",
    "Dewhurst", "Everdene",
)  # fmt: skip
_STREETS = ("Juniper Lane", "Osprey Road", "Tanner Street", "Willowmere Court", "Kiln Row")


# --- The builder ------------------------------------------------------------------------


class _Builder:
    def __init__(self, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
        self.now = now
        self.resources: list[Resource] = []
        self.sites: dict[str, _Site] = {}
        self._counters: dict[str, int] = {}

    # Randomness and ids

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def pick(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def weighted(self, options: Sequence[tuple[T, float]]) -> T:
        return self.rng.choices([o for o, _ in options], [w for _, w in options])[0]

    def next_id(self, prefix: str) -> str:
        self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return f"{prefix}-{self._counters[prefix]:05d}"

    def synthetic_name(self, gender: str) -> tuple[str, str]:
        given = self.pick(_FEMALE_NAMES if gender == "female" else _MALE_NAMES)
        family = self.pick(_FAMILY_NAMES)
        return f"{given}{self.rng.randint(10, 999)}", f"{family}{self.rng.randint(10, 999)}"

    def address(self) -> dict[str, Any]:
        return {
            "use": "home",
            "line": [f"{self.rng.randint(1, 999)} {self.pick(_STREETS)}"],
            "city": self.pick(TOWNS),
            "country": "US",
        }

    def add(self, resource: Resource) -> Resource:
        self.resources.append(resource)
        return resource

    # The health system

    def health_system(self) -> None:
        self.add(
            {
                "resourceType": "Organization",
                "id": HEALTH_SYSTEM_ID,
                "identifier": [{"system": c.ORGANIZATION_ID_SYSTEM, "value": "MVH"}],
                "active": True,
                "type": [concept(Code(c.ORGANIZATION_TYPE, "prov", "Healthcare Provider"))],
                "name": "Maple Valley Health (synthetic)",
                "telecom": [{"system": "phone", "value": "555-0100", "use": "work"}],
                "address": [{"line": ["1 Infirmary Way"], "city": TOWNS[0], "country": "US"}],
            }
        )
        for payer_id, name in (
            (COMMERCIAL_PAYER_ID, "Evergreen Mutual Health Plan (synthetic)"),
            (SENIOR_PAYER_ID, "Silverline Senior Advantage (synthetic)"),
        ):
            self.add(
                {
                    "resourceType": "Organization",
                    "id": payer_id,
                    "active": True,
                    "type": [concept(Code(c.ORGANIZATION_TYPE, "pay", "Payer"))],
                    "name": name,
                }
            )
        for department in _DEPARTMENTS:
            location_id = f"loc-{department.key}"
            self.add(
                {
                    "resourceType": "Location",
                    "id": location_id,
                    "status": "active",
                    "name": department.name,
                    "mode": "instance",
                    "type": [
                        concept(
                            *([department.type] if department.type else []),
                            text=department.type_text,
                        )
                    ],
                    "managingOrganization": _ref("Organization", HEALTH_SYSTEM_ID),
                }
            )
            site = _Site(department, location_id)
            for specialty in department.staff:
                site.staff.append(self.practitioner(site, specialty))
            self.sites[department.key] = site

    def practitioner(self, site: _Site, specialty: Code) -> _Clinician:
        practitioner_id = self.next_id("prac")
        gender = self.pick(("female", "male"))
        given, family = self.synthetic_name(gender)
        nurse = specialty == c.NURSE_PRACTITIONER
        name: dict[str, Any] = {"use": "official", "family": family, "given": [given]}
        if nurse:
            name["suffix"] = ["NP"]
        else:
            name["prefix"] = ["Dr."]
            name["suffix"] = ["MD"]
        display = f"{given} {family}, NP" if nurse else f"Dr. {given} {family}"
        # A synthetic work address on the reserved example.org domain (RFC 2606): the app
        # learns the reporter's email from here, and no mail can reach a real person.
        email = {"system": "email", "value": f"{given}.{family}@example.org".lower(), "use": "work"}
        self.add(
            {
                "resourceType": "Practitioner",
                "id": practitioner_id,
                "identifier": [
                    {
                        "system": c.STAFF_ID_SYSTEM,
                        "value": f"S{70_000 + int(practitioner_id.removeprefix('prac-'))}",
                    }
                ],
                "active": True,
                "name": [name],
                "telecom": [email],
                "gender": gender,
            }
        )
        role = (
            Code(c.PRACTITIONER_ROLE, "nurse", "Nurse")
            if nurse
            else Code(c.PRACTITIONER_ROLE, "doctor", "Doctor")
        )
        self.add(
            {
                "resourceType": "PractitionerRole",
                "id": f"role-{practitioner_id.removeprefix('prac-')}",
                "active": True,
                "practitioner": _ref("Practitioner", practitioner_id, display),
                "organization": _ref("Organization", HEALTH_SYSTEM_ID),
                "location": [_ref("Location", site.location_id, site.department.name)],
                "code": [concept(role)],
                "specialty": [concept(specialty)],
                "telecom": [email],
            }
        )
        return _Clinician(practitioner_id, display, specialty)

    # Patients

    def patient(self) -> None:
        rng = self.rng
        patient_id = self.next_id("pat")
        gender = self.pick(("female", "male"))
        low, high = self.weighted(
            [((18, 39), 18), ((40, 49), 12), ((50, 64), 28), ((65, 74), 18), ((75, 92), 24)]
        )
        age = rng.randint(low, high)
        birthday_days_ago = rng.randint(1, 364)
        birth_date = _shift_years(self.now.date(), -age) - timedelta(days=birthday_days_ago)
        given, family = self.synthetic_name(gender)
        home = self.sites[self.pick(_PRIMARY_CARE)]
        pcp = self.pick(home.staff)
        number = int(patient_id.removeprefix("pat-"))
        patient = _Patient(
            id=patient_id,
            name=f"{given} {family}",
            gender=gender,
            age=age,
            birthday_days_ago=birthday_days_ago,
            home=home,
            pcp=pcp,
            weight_kg=round(rng.uniform(55, 80) if gender == "female" else rng.uniform(65, 105), 1),
        )
        self.add(
            {
                "resourceType": "Patient",
                "id": patient_id,
                "identifier": [
                    {
                        "use": "usual",
                        "type": concept(
                            Code(c.IDENTIFIER_TYPE, "MR", "Medical record number"), text="MRN"
                        ),
                        "system": c.MRN_SYSTEM,
                        "value": f"{8_000_000 + number * 7}",
                    }
                ],
                "active": True,
                "name": [{"use": "official", "family": family, "given": [given]}],
                "telecom": [
                    {"system": "phone", "value": f"555-01{number % 100:02d}", "use": "home"}
                ],
                "gender": gender,
                "birthDate": birth_date.isoformat(),
                "address": [self.address()],
                "generalPractitioner": [_ref("Practitioner", pcp.id, pcp.name)],
                "managingOrganization": _ref("Organization", HEALTH_SYSTEM_ID),
            }
        )
        self.coverage(patient, number)
        self.problem_list(patient)
        self.visits(patient)
        self.settle_chronic_orders(patient)

    def coverage(self, patient: _Patient, number: int) -> None:
        if not self.chance(0.8):
            return
        senior = patient.age >= 65
        self.add(
            {
                "resourceType": "Coverage",
                "id": self.next_id("cov"),
                "identifier": [{"system": c.MEMBER_ID_SYSTEM, "value": f"M{40_000_000 + number}"}],
                "status": "active",
                "type": {"text": "Medicare Advantage" if senior else "Commercial PPO"},
                "subscriberId": f"M{40_000_000 + number}",
                "beneficiary": _ref("Patient", patient.id, patient.name),
                "relationship": concept(Code(c.SUBSCRIBER_RELATIONSHIP, "self", "Self")),
                "period": {
                    "start": (self.now.date() - timedelta(days=self.rng.randint(60, 2000)))
                    .replace(day=1)
                    .isoformat()
                },
                "payor": [_ref("Organization", SENIOR_PAYER_ID if senior else COMMERCIAL_PAYER_ID)],
            }
        )

    def problem_list(self, patient: _Patient) -> None:
        age, female = patient.age, patient.gender == "female"
        odds: list[tuple[Diagnosis, float]] = [
            (c.HYPERTENSION, 0.5 if age >= 40 else 0.1),
            (c.TYPE_2_DIABETES, 0.22 if age >= 40 else 0.05),
            (c.HYPERLIPIDEMIA, 0.35 if age >= 40 else 0.05),
            (c.HYPOTHYROIDISM, 0.18 if female else 0.06),
            (c.CKD_STAGE_3, 0.18 if age >= 60 else 0.0),
            (c.OBESITY, 0.2),
            (c.OSTEOPOROSIS, 0.25 if female and age >= 65 else 0.0),
            (c.ASTHMA, 0.08),
            (c.COPD, 0.1 if age >= 55 else 0.0),
            (c.ATRIAL_FIBRILLATION, 0.12 if age >= 65 else 0.0),
            (c.KNEE_OSTEOARTHRITIS, 0.2 if age >= 55 else 0.0),
            (c.BREAST_CANCER, 0.07 if female and age >= 45 else 0.0),
            (c.PROSTATE_CANCER, 0.12 if not female and age >= 60 else 0.0),
        ]
        for diagnosis, probability in odds:
            if probability and self.chance(probability):
                onset = self.now - timedelta(days=self.rng.randint(800, 4000))
                patient.problems[diagnosis] = self.condition(
                    patient, diagnosis, None, onset, category="problem-list-item"
                )
        drugs: list[tuple[Drug, Diagnosis | None]] = []
        if patient.has(c.HYPERTENSION):
            first = self.pick((c.AMLODIPINE_5, c.LISINOPRIL_10, c.LOSARTAN_25))
            drugs.append((first, c.HYPERTENSION))
            if self.chance(0.4):
                drugs.append((c.HYDROCHLOROTHIAZIDE_25, c.HYPERTENSION))
        if patient.has(c.TYPE_2_DIABETES):
            drugs.append((c.METFORMIN_ER_500, c.TYPE_2_DIABETES))
        if patient.has(c.HYPERLIPIDEMIA):
            drugs.append((self.pick((c.SIMVASTATIN_20, c.ATORVASTATIN_80)), c.HYPERLIPIDEMIA))
        if patient.has(c.HYPOTHYROIDISM):
            drugs.append((c.LEVOTHYROXINE_75, c.HYPOTHYROIDISM))
        if patient.has(c.ATRIAL_FIBRILLATION):
            drugs.append((c.WARFARIN_5, c.ATRIAL_FIBRILLATION))
        if patient.has(c.ASTHMA, c.COPD):
            drugs.append((c.ALBUTEROL_INHALER, c.COPD if patient.has(c.COPD) else c.ASTHMA))
        if age >= 50 and self.chance(0.25):
            drugs.append((c.ASPIRIN_81, None))
        if self.chance(0.2):
            drugs.append((c.OMEPRAZOLE, None))
        if self.chance(0.15):
            drugs.append((c.CHOLECALCIFEROL, None))
        patient.chronic_drugs = drugs

    def visits(self, patient: _Patient) -> None:
        count = self.weighted([(1, 20), (2, 35), (3, 30), (4, 15)])
        past_days = sorted(self.rng.sample(range(14, 730), count - 1), reverse=True)
        for days_ago in past_days:
            self.visit(patient, days_ago, current=False)
        self.visit(patient, 0, current=True)

    def visit(self, patient: _Patient, days_ago: int, *, current: bool) -> None:
        age = patient.age_at(days_ago)
        options = [
            (scenario, scenario.weight * (1.4 if current and scenario.low_value else 1.0))
            for scenario in _SCENARIOS
            if scenario.eligible(patient, age) and not (current and scenario.past_only)
        ]
        scenario = self.weighted(options)
        site_key = self.pick(scenario.sites)
        site = patient.home if site_key == "home" else self.sites[site_key]
        cls = site.department.encounter_class
        if current:
            # Open now: a clinic visit for minutes, an ED visit for hours, a stay for days.
            low, high = {"AMB": (10, 150), "EMER": (40, 360), "IMP": (1440, 5 * 1440)}[cls.code]
            minutes = self.rng.randint(low, high)
            start = self.now - timedelta(minutes=minutes)
        else:
            hour = self.rng.randint(8, 16) if cls == c.AMBULATORY else self.rng.randint(0, 23)
            start = (self.now - timedelta(days=days_ago)).replace(
                hour=hour, minute=self.pick((0, 10, 15, 20, 30, 40, 45, 50)), second=0
            )
            low, high = {"AMB": (20, 60), "EMER": (120, 480), "IMP": (2880, 6 * 1440)}[cls.code]
            minutes = self.rng.randint(low, high)
        end = None if current else start + timedelta(minutes=minutes)
        clinician = (
            patient.pcp if site is patient.home and self.chance(0.8) else self.pick(site.staff)
        )
        visit_type = scenario.visit_type(age) if scenario.visit_type else self.default_type(site)
        encounter_id = self.next_id("enc")
        resource: Resource = {
            "resourceType": "Encounter",
            "id": encounter_id,
            "identifier": [
                {
                    "system": c.VISIT_NUMBER_SYSTEM,
                    "value": f"{5_000_000 + int(encounter_id.removeprefix('enc-'))}",
                }
            ],
            "status": "in-progress" if current else "finished",
            "class": cls.coding(),
            "type": [
                concept(*([visit_type.code] if visit_type.code else []), text=visit_type.text)
            ],
            "subject": _ref("Patient", patient.id, patient.name),
            "participant": [
                {
                    "type": [concept(Code(c.PARTICIPATION_TYPE, "ATND", "attender"))],
                    "individual": _ref("Practitioner", clinician.id, clinician.name),
                }
            ],
            "period": {"start": fhir_instant(start), **({"end": fhir_instant(end)} if end else {})},
            "location": [
                {
                    "location": _ref("Location", site.location_id, site.department.name),
                    "status": "active" if current else "completed",
                }
            ],
            "serviceProvider": _ref("Organization", HEALTH_SYSTEM_ID),
        }
        self.add(resource)
        visit = _Visit(
            id=encounter_id,
            patient=patient,
            site=site,
            clinician=clinician,
            start=start,
            minutes=minutes,
            days_ago=days_ago,
            current=current,
            age=age,
        )
        self.vital_signs(visit, febrile=scenario.febrile)
        scenario.build(self, visit)
        self.refill_chronic(visit, scenario.refills)
        if visit.diagnoses:
            resource["diagnosis"] = [
                {"condition": _ref("Condition", condition_id), "rank": rank}
                for rank, condition_id in enumerate(visit.diagnoses, start=1)
            ]
            resource["reasonReference"] = [_ref("Condition", visit.diagnoses[0])]

    def default_type(self, site: _Site) -> VisitType:
        key = site.department.key
        if key == "emergency":
            return c.ED_VISIT
        if key == "medicine-ward":
            return c.ADMISSION
        if key == "pre-op":
            return c.PREOP_VISIT
        if key in _PRIMARY_CARE or key == "urgent-care":
            return c.OFFICE_VISIT
        return c.NEW_PATIENT_VISIT if self.chance(0.4) else c.OFFICE_VISIT

    # Clinical content

    def moment(self, visit: _Visit, within_minutes: int = 45) -> datetime:
        """A time during the visit, at most ``within_minutes`` after it started."""
        span = max(1, min(within_minutes, visit.minutes - 1))
        return visit.start + timedelta(minutes=self.rng.randint(1, span))

    def condition(
        self,
        patient: _Patient,
        diagnosis: Diagnosis,
        visit: _Visit | None,
        onset: datetime,
        *,
        category: str = "encounter-diagnosis",
    ) -> str:
        condition_id = self.next_id("cond")
        chronic = category == "problem-list-item" or diagnosis in patient.problems
        codes = [diagnosis.icd10, *([diagnosis.snomed] if diagnosis.snomed else [])]
        resolved = visit is not None and not visit.current and not chronic
        resource: Resource = {
            "resourceType": "Condition",
            "id": condition_id,
            "clinicalStatus": _status(c.CONDITION_CLINICAL, "resolved" if resolved else "active"),
            "verificationStatus": _status(c.CONDITION_VERIFICATION, "confirmed"),
            "category": [_status(c.CONDITION_CATEGORY, category)],
            "code": concept(*codes, text=diagnosis.icd10.display if self.chance(0.7) else None),
            "subject": _ref("Patient", patient.id, patient.name),
            "onsetDateTime": fhir_instant(onset),
            "recordedDate": fhir_instant(onset if visit is None else self.moment(visit, 20)),
        }
        if visit is not None:
            resource["encounter"] = _ref("Encounter", visit.id)
            visit.diagnoses.append(condition_id)
        if resolved and visit is not None and visit.end is not None:
            # Past visits ended at least 8 days ago, so this is never in the future.
            resource["abatementDateTime"] = fhir_instant(visit.end + timedelta(days=5))
        self.add(resource)
        return condition_id

    def diagnose(self, visit: _Visit, diagnosis: Diagnosis) -> str:
        """An encounter diagnosis on this visit (chronic ones stay active)."""
        onset = visit.start - timedelta(days=self.rng.randint(0, 6))
        if diagnosis in visit.patient.problems:
            onset = visit.start - timedelta(days=self.rng.randint(200, 900))
        elif diagnosis.icd10.code.startswith("Z"):  # a reason for the visit, not an illness
            onset = visit.start
        return self.condition(visit.patient, diagnosis, visit, onset)

    def order(
        self,
        visit: _Visit,
        orderable: Orderable,
        *reasons: str,
        status: str | None = None,
        requester: _Clinician | None = None,
        occurrence: datetime | None = None,
        authored: datetime | None = None,
    ) -> str:
        if status is None:
            status = self.order_status(visit, orderable)
        request_id = self.next_id("sr")
        authored = authored or self.moment(visit)
        requester = requester or visit.clinician
        code = concept(*orderable.codes)
        if not orderable.codes or self.chance(0.65):
            code["text"] = orderable.text
        resource: Resource = {
            "resourceType": "ServiceRequest",
            "id": request_id,
            "status": status,
            "intent": "order",
            "category": [service_category(orderable.category)],
            "priority": "stat" if visit.emergency_or_inpatient and self.chance(0.6) else "routine",
            "code": code,
            "subject": _ref("Patient", visit.patient.id, visit.patient.name),
            "encounter": _ref("Encounter", visit.id),
            "authoredOn": fhir_instant(authored),
            "requester": _ref("Practitioner", requester.id, requester.name),
        }
        if occurrence is not None:
            resource["occurrenceDateTime"] = fhir_instant(occurrence)
        if reasons:
            resource["reasonReference"] = [_ref("Condition", reason) for reason in reasons]
        self.add(resource)
        if status == "completed" and orderable.results:
            self.results(visit, request_id, authored, orderable)
        return request_id

    def order_status(self, visit: _Visit, orderable: Orderable) -> str:
        if visit.current:
            if orderable.category == c.LAB and visit.emergency_or_inpatient and self.chance(0.6):
                return "completed"
            return self.weighted([("active", 80), ("draft", 14), ("revoked", 6)])
        return self.weighted([("completed", 92), ("revoked", 8)])

    def results(
        self, visit: _Visit, request_id: str, authored: datetime, orderable: Orderable
    ) -> None:
        if visit.current:
            elapsed = self.now - authored
            effective = authored + elapsed * self.rng.uniform(0.1, 0.5)
            issued = effective + (self.now - effective) * self.rng.uniform(0.2, 0.9)
        else:
            effective = authored + timedelta(minutes=self.rng.randint(15, 180))
            issued = effective + timedelta(minutes=self.rng.randint(30, 900))
        for key in orderable.results:
            self.observation(
                visit,
                key,
                effective,
                category=c.LABORATORY_CATEGORY,
                issued=issued,
                based_on=request_id,
            )

    def result_value(self, patient: _Patient, key: str) -> float:
        result = c.RESULTS[key]
        low, high = result.low, result.high
        if key == "creatinine" and patient.has(c.CKD_STAGE_3):
            low, high = 1.4, 2.4
        elif key == "hba1c":
            low, high = (6.6, 9.4) if patient.has(c.TYPE_2_DIABETES) else (4.8, 5.8)
        elif key == "systolic" and patient.has(c.HYPERTENSION):
            low, high = 128, 168
        value = round(self.rng.uniform(low, high), result.decimals)
        return int(value) if result.decimals == 0 else value

    def observation(
        self,
        visit: _Visit,
        key: str,
        effective: datetime,
        *,
        category: Code,
        issued: datetime | None = None,
        based_on: str | None = None,
        value: float | None = None,
    ) -> None:
        result = c.RESULTS[key]
        resource: Resource = {
            "resourceType": "Observation",
            "id": self.next_id("obs"),
            "status": "final",
            "category": [concept(category)],
            "code": concept(result.code, text=result.code.display),
            "subject": _ref("Patient", visit.patient.id, visit.patient.name),
            "encounter": _ref("Encounter", visit.id),
            "effectiveDateTime": fhir_instant(effective),
        }
        if issued is not None:
            resource["issued"] = fhir_instant(issued)
        if based_on is not None:
            resource["basedOn"] = [_ref("ServiceRequest", based_on)]
        resource["valueQuantity"] = self.quantity(
            key, self.result_value(visit.patient, key) if value is None else value
        )
        self.add(resource)

    @staticmethod
    def quantity(key: str, value: float) -> dict[str, Any]:
        unit = c.RESULTS[key].unit
        return {"value": value, "unit": unit, "system": c.UCUM, "code": unit}

    def vital_signs(self, visit: _Visit, *, febrile: bool) -> None:
        taken = self.moment(visit, 15)
        patient = visit.patient
        blood_pressure: Resource = {
            "resourceType": "Observation",
            "id": self.next_id("obs"),
            "status": "final",
            "category": [concept(c.VITAL_SIGNS_CATEGORY)],
            "code": concept(c.BLOOD_PRESSURE_PANEL, text="Blood pressure"),
            "subject": _ref("Patient", patient.id, patient.name),
            "encounter": _ref("Encounter", visit.id),
            "effectiveDateTime": fhir_instant(taken),
            "component": [
                {
                    "code": concept(c.RESULTS[key].code),
                    "valueQuantity": self.quantity(key, self.result_value(patient, key)),
                }
                for key in ("systolic", "diastolic")
            ],
        }
        self.add(blood_pressure)
        vital = c.VITAL_SIGNS_CATEGORY
        self.observation(visit, "heart_rate", taken, category=vital)
        weight = round(patient.weight_kg + self.rng.uniform(-2, 2), 1)
        self.observation(visit, "body_weight", taken, category=vital, value=weight)
        if febrile or visit.emergency_or_inpatient or visit.site.department.key == "urgent-care":
            temperature = round(self.rng.uniform(38.1, 39.4), 1) if febrile else None
            self.observation(visit, "body_temperature", taken, category=vital, value=temperature)
            self.observation(visit, "respiratory_rate", taken, category=vital)

    def prescribe(
        self,
        visit: _Visit,
        drug: Drug,
        *reasons: str,
        course: bool = True,
    ) -> Resource:
        """A MedicationRequest; ``course`` means a short course that ends (not a chronic drug)."""
        inpatient = visit.site.department.encounter_class == c.INPATIENT
        if visit.current:
            status = "active"
        elif inpatient or course:
            status = "completed" if self.chance(0.9) else "stopped"
        else:
            status = "active"  # settled later, once the patient's last refill is known
        medication: dict[str, Any] = {}
        if drug.rxnorm is not None:
            medication["coding"] = [drug.rxnorm.coding()]
            if self.chance(0.55):
                medication["text"] = drug.text
        else:
            medication["text"] = drug.text
        category = "inpatient" if inpatient else self.pick(("outpatient", "community"))
        requester = visit.clinician
        resource: Resource = {
            "resourceType": "MedicationRequest",
            "id": self.next_id("mr"),
            "status": status,
            "intent": "order",
            "category": [
                concept(Code(c.MEDICATION_REQUEST_CATEGORY, category, category.capitalize()))
            ],
            "medicationCodeableConcept": medication,
            "subject": _ref("Patient", visit.patient.id, visit.patient.name),
            "encounter": _ref("Encounter", visit.id),
            "authoredOn": fhir_instant(self.moment(visit)),
            "requester": _ref("Practitioner", requester.id, requester.name),
            "dosageInstruction": [{"text": drug.sig}],
        }
        if reasons:
            resource["reasonReference"] = [_ref("Condition", reason) for reason in reasons]
        if not inpatient and not course:
            resource["dispenseRequest"] = {
                "numberOfRepeatsAllowed": self.pick((1, 3, 5)),
                "expectedSupplyDuration": {
                    "value": 90,
                    "unit": "days",
                    "system": c.UCUM,
                    "code": "d",
                },
            }
        self.add(resource)
        return resource

    def refill_chronic(self, visit: _Visit, probability: float) -> None:
        """Renew the patient's regular drugs, as medication reconciliation does."""
        inpatient = visit.site.department.encounter_class == c.INPATIENT
        for drug, diagnosis in visit.patient.chronic_drugs:
            if not self.chance(probability):
                continue
            reasons = []
            if diagnosis is not None and self.chance(0.5):
                reasons.append(visit.patient.problems[diagnosis])
            order = self.prescribe(visit, drug, *reasons, course=inpatient)
            if not inpatient:
                visit.patient.chronic_orders.setdefault(drug, []).append(order)

    def settle_chronic_orders(self, patient: _Patient) -> None:
        """The latest order of a regular drug stays active; earlier ones were replaced."""
        for orders in patient.chronic_orders.values():
            for order in orders[:-1]:
                order["status"] = "completed" if self.chance(0.8) else "stopped"

    def procedure(
        self,
        visit: _Visit,
        orderable: Orderable,
        *,
        status: str,
        performer: _Clinician,
        reason: str,
        based_on: str,
        performed: datetime | None,
    ) -> None:
        minutes = self.rng.randint(25, 70)
        resource: Resource = {
            "resourceType": "Procedure",
            "id": self.next_id("proc"),
            "basedOn": [_ref("ServiceRequest", based_on)],
            "status": status,
            "code": concept(*orderable.codes, text=orderable.text),
            "subject": _ref("Patient", visit.patient.id, visit.patient.name),
            "encounter": _ref("Encounter", visit.id),
            "performer": [{"actor": _ref("Practitioner", performer.id, performer.name)}],
            "reasonReference": [_ref("Condition", reason)],
        }
        if performed is not None:
            resource["performedPeriod"] = {
                "start": fhir_instant(performed),
                "end": fhir_instant(performed + timedelta(minutes=minutes)),
            }
        self.add(resource)

    def specialist(self, key: str, specialty: Code) -> _Clinician:
        return self.pick([s for s in self.sites[key].staff if s.specialty == specialty])


# --- Scenarios: what happens at one visit ------------------------------------------------


def _anyone(patient: _Patient, age: int) -> bool:
    return True


@dataclass(frozen=True)
class _Scenario:
    """One kind of visit. ``low_value`` only steers the mix; it is not in the output."""

    name: str
    weight: float
    sites: tuple[str, ...]  # department keys; "home" is the patient's primary care clinic
    build: Callable[[_Builder, _Visit], None]
    eligible: Callable[[_Patient, int], bool] = _anyone
    low_value: bool = False
    past_only: bool = False
    febrile: bool = False
    visit_type: Callable[[int], VisitType] | None = None
    refills: float = 0.5  # chance each regular drug is renewed at the visit


def _preventive_type(age: int) -> VisitType:
    if age >= 65:
        return c.PREVENTIVE_VISIT_65
    return c.PREVENTIVE_VISIT_40_64 if age >= 40 else c.PREVENTIVE_VISIT_18_39


def _past(visit: _Visit) -> str | None:
    return None if visit.current else "completed"


def _low_back_pain_imaging(b: _Builder, v: _Visit) -> None:
    pain = b.diagnose(v, c.LOW_BACK_PAIN)
    b.order(v, b.pick((c.MRI_LUMBAR_SPINE, c.XRAY_LUMBAR_SPINE, c.XRAY_LUMBAR_SPINE)), pain)
    b.prescribe(v, b.pick((c.NAPROXEN_500, c.IBUPROFEN_200)), pain)
    if b.chance(0.4):
        b.prescribe(v, c.CYCLOBENZAPRINE)
    if b.chance(0.3):
        b.order(v, c.PHYSICAL_THERAPY_REFERRAL, pain)


def _low_back_pain_red_flag(b: _Builder, v: _Visit) -> None:
    pain = b.diagnose(v, c.LOW_BACK_PAIN)
    # A known cancer or a fever is a red flag that makes imaging appropriate.
    flag = b.diagnose(v, v.patient.cancer or c.FEVER)
    b.order(v, c.MRI_LUMBAR_SPINE, pain, flag)
    b.order(v, c.CBC, flag)
    b.prescribe(v, c.ACETAMINOPHEN_500, pain)


def _wellness_vitamin_d(b: _Builder, v: _Visit) -> None:
    exam = b.diagnose(v, c.GENERAL_EXAM)
    b.order(v, c.VITAMIN_D, exam)
    b.order(v, c.LIPID_PANEL, exam)
    if v.patient.has(c.TYPE_2_DIABETES):
        b.order(v, c.HBA1C, b.diagnose(v, c.TYPE_2_DIABETES))


def _psa_older_man(b: _Builder, v: _Visit) -> None:
    exam = b.diagnose(v, c.GENERAL_EXAM)
    b.order(v, c.PSA, exam)
    if v.patient.has(c.HYPERTENSION):
        b.order(v, c.BMP, b.diagnose(v, c.HYPERTENSION))
    else:
        b.order(v, c.LIPID_PANEL, exam)


def _preop(
    b: _Builder, v: _Visit, diagnosis: Diagnosis, surgery: Orderable, surgeon: _Clinician
) -> None:
    problem = b.diagnose(v, diagnosis)
    exam = b.diagnose(v, c.PREOPERATIVE_EXAM)
    days_later = b.rng.randint(7, 25)
    surgery_day = (v.start + timedelta(days=days_later)).replace(
        hour=b.rng.randint(7, 14), minute=0, second=0
    )
    done = days_later < v.days_ago  # decided in whole days, so ``now`` cannot change it
    request = b.order(
        v,
        surgery,
        problem,
        status="completed" if done else "active",
        requester=surgeon,
        occurrence=surgery_day,
    )
    b.procedure(
        v,
        surgery,
        status="completed" if done else "preparation",
        performer=surgeon,
        reason=problem,
        based_on=request,
        performed=surgery_day if done else None,
    )
    tests = [t for t in (c.CHEST_XRAY, c.CBC, c.BMP) if b.chance(0.6)] or [c.CBC]
    for test in tests:
        b.order(v, test, exam, status=_past(v))


def _preop_cataract(b: _Builder, v: _Visit) -> None:
    surgeon = b.specialist("ophthalmology", c.OPHTHALMOLOGY)
    _preop(b, v, c.CATARACT, c.CATARACT_SURGERY, surgeon)


def _preop_hernia(b: _Builder, v: _Visit) -> None:
    surgeon = b.specialist("pre-op", c.GENERAL_SURGERY)
    _preop(b, v, c.INGUINAL_HERNIA, c.HERNIA_REPAIR, surgeon)


def _cataract_surgery(b: _Builder, v: _Visit) -> None:
    cataract = b.diagnose(v, c.CATARACT)
    operation = v.start + timedelta(minutes=10)
    request = b.order(
        v,
        c.CATARACT_SURGERY,
        cataract,
        status="completed",
        occurrence=operation,
        authored=v.start - timedelta(days=b.rng.randint(10, 40)),  # booked at the consult
    )
    b.procedure(
        v,
        c.CATARACT_SURGERY,
        status="completed",
        performer=v.clinician,
        reason=cataract,
        based_on=request,
        performed=operation,
    )
    b.prescribe(v, c.PREDNISOLONE_EYE_DROPS, cataract)


def _migraine_imaging(b: _Builder, v: _Visit) -> None:
    migraine = b.diagnose(v, c.MIGRAINE)
    in_ed = v.site.department.key == "emergency"
    b.order(v, c.CT_HEAD if in_ed else c.MRI_BRAIN, migraine)
    b.prescribe(v, c.SUMATRIPTAN, migraine)
    if in_ed:
        b.prescribe(v, c.ONDANSETRON_IV)
    b.prescribe(v, b.pick((c.ACETAMINOPHEN_500, c.IBUPROFEN_200)), migraine)


def _syncope_imaging(b: _Builder, v: _Visit) -> None:
    syncope = b.diagnose(v, c.SYNCOPE)
    b.order(v, c.CT_HEAD, syncope)
    b.order(v, c.ECG, syncope)
    b.order(v, c.CBC, syncope)
    b.order(v, c.BMP, syncope)
    if b.chance(0.35):
        b.order(v, c.CAROTID_DUPLEX, syncope)


def _head_injury_imaging(b: _Builder, v: _Visit) -> None:
    injury = b.diagnose(v, c.HEAD_INJURY)
    b.order(v, c.CT_HEAD, injury)
    b.prescribe(v, c.ACETAMINOPHEN_325, injury)


def _antibiotic_for_cold(b: _Builder, v: _Visit) -> None:
    cold = b.diagnose(v, c.URI)
    antibiotic = b.pick((c.AMOXICILLIN_500, c.AMOXICILLIN_250, c.AZITHROMYCIN_250, c.Z_PAK))
    b.prescribe(v, antibiotic, *([cold] if b.chance(0.6) else []))
    b.prescribe(v, b.pick((c.CETIRIZINE_10, c.BENZONATATE, c.FLUTICASONE_NASAL)))


def _cold_supportive(b: _Builder, v: _Visit) -> None:
    cold = b.diagnose(v, c.URI)
    b.prescribe(v, b.pick((c.CETIRIZINE_10, c.FLUTICASONE_NASAL)), cold)
    b.prescribe(v, c.ACETAMINOPHEN_500)


def _antibiotic_for_bronchitis(b: _Builder, v: _Visit) -> None:
    bronchitis = b.diagnose(v, c.ACUTE_BRONCHITIS)
    b.prescribe(v, b.pick((c.AZITHROMYCIN_250, c.AMOXICILLIN_500, c.Z_PAK)), bronchitis)
    b.prescribe(v, c.BENZONATATE, bronchitis)
    if b.chance(0.3):
        b.order(v, c.CHEST_XRAY, bronchitis)


def _strep_throat(b: _Builder, v: _Visit) -> None:
    strep = b.diagnose(v, c.STREP_PHARYNGITIS)
    b.order(v, c.RAPID_STREP, strep, status="completed")
    b.prescribe(v, b.pick((c.PENICILLIN_V, c.AMOXICILLIN_500)), strep)
    b.prescribe(v, c.ACETAMINOPHEN_325)


def _sinus_ct(b: _Builder, v: _Visit) -> None:
    sinusitis = b.diagnose(v, c.ACUTE_SINUSITIS)
    b.order(v, c.CT_SINUS, sinusitis)
    b.prescribe(v, c.AMOXICILLIN_500, sinusitis)
    b.prescribe(v, c.FLUTICASONE_NASAL)


def _t3_in_hypothyroidism(b: _Builder, v: _Visit) -> None:
    thyroid = b.diagnose(v, c.HYPOTHYROIDISM)
    b.order(v, c.TSH, thyroid)
    b.order(v, b.pick((c.T3_TOTAL, c.T3_FREE)), thyroid)


def _thyroid_follow_up(b: _Builder, v: _Visit) -> None:
    b.order(v, c.TSH, b.diagnose(v, c.HYPOTHYROIDISM))


def _pth_in_ckd(b: _Builder, v: _Visit) -> None:
    ckd = b.diagnose(v, c.CKD_STAGE_3)
    b.order(v, c.PTH, ckd)
    b.order(v, c.BMP, ckd)


def _vitamin_d_in_ckd(b: _Builder, v: _Visit) -> None:
    ckd = b.diagnose(v, c.CKD_STAGE_3)
    b.order(v, c.VITAMIN_D, ckd)
    b.order(v, c.BMP, ckd)


def _dxa_younger_woman(b: _Builder, v: _Visit) -> None:
    exam = b.diagnose(v, c.GENERAL_EXAM)
    b.order(v, c.DXA_SCAN, exam)
    b.order(v, c.LIPID_PANEL, exam)


def _homocysteine(b: _Builder, v: _Visit) -> None:
    reason = b.diagnose(v, c.HYPERTENSION if v.patient.has(c.HYPERTENSION) else c.GENERAL_EXAM)
    b.order(v, c.HOMOCYSTEINE, reason)
    b.order(v, c.LIPID_PANEL, reason)


def _sleeping_pill_older_adult(b: _Builder, v: _Visit) -> None:
    insomnia = b.diagnose(v, c.INSOMNIA)
    b.prescribe(v, c.DIAZEPAM_5, insomnia, course=False)


def _routine_psa(b: _Builder, v: _Visit, reason: str) -> None:
    """PSA with the routine labs: surveillance after prostate cancer, or a low-value habit."""
    if v.patient.has(c.PROSTATE_CANCER):
        if b.chance(0.7):
            b.order(v, c.PSA, b.diagnose(v, c.PROSTATE_CANCER))
    elif v.patient.gender == "male" and v.age >= 75 and b.chance(0.4):
        b.order(v, c.PSA, reason)


def _kidney_labs(b: _Builder, v: _Visit) -> None:
    """In CKD stage 3, PTH often rides along with the renal labs (low value before stage 4)."""
    if v.patient.has(c.CKD_STAGE_3) and b.chance(0.35):
        b.order(v, c.PTH, b.diagnose(v, c.CKD_STAGE_3))


def _hypertension_follow_up(b: _Builder, v: _Visit) -> None:
    hypertension = b.diagnose(v, c.HYPERTENSION)
    b.order(v, c.BMP, hypertension)
    _routine_psa(b, v, hypertension)
    _kidney_labs(b, v)


def _diabetes_follow_up(b: _Builder, v: _Visit) -> None:
    diabetes = b.diagnose(v, c.TYPE_2_DIABETES)
    b.order(v, c.HBA1C, diabetes)
    b.order(v, c.CREATININE, diabetes)
    _kidney_labs(b, v)


def _wellness(b: _Builder, v: _Visit) -> None:
    exam = b.diagnose(v, c.GENERAL_EXAM)
    b.order(v, c.LIPID_PANEL, exam)
    if v.patient.has(c.TYPE_2_DIABETES):
        b.order(v, c.HBA1C, exam)
    _routine_psa(b, v, exam)
    woman_under_65 = v.patient.gender == "female" and v.age >= 50 and v.patient.age <= 64
    if woman_under_65 and not v.patient.has(c.OSTEOPOROSIS) and b.chance(0.3):
        b.order(v, c.DXA_SCAN, exam)  # "due for a bone scan" at 50: another habit


def _psa_after_prostate_cancer(b: _Builder, v: _Visit) -> None:
    b.order(v, c.PSA, b.diagnose(v, c.PROSTATE_CANCER))


def _ankle_sprain(b: _Builder, v: _Visit) -> None:
    sprain = b.diagnose(v, c.ANKLE_SPRAIN)
    b.order(v, c.XRAY_ANKLE, sprain)
    b.prescribe(v, c.IBUPROFEN_200, sprain)


def _urinary_tract_infection(b: _Builder, v: _Visit) -> None:
    infection = b.diagnose(v, c.URINARY_TRACT_INFECTION)
    b.order(v, c.URINALYSIS, infection, status="completed")
    b.order(v, c.URINE_CULTURE, infection)
    b.prescribe(v, c.NITROFURANTOIN, infection)


def _knee_osteoarthritis(b: _Builder, v: _Visit) -> None:
    knee = b.diagnose(v, c.KNEE_OSTEOARTHRITIS)
    b.order(v, c.XRAY_KNEE, knee)
    b.prescribe(v, c.NAPROXEN_500, knee)
    if b.chance(0.5):
        b.order(v, c.PHYSICAL_THERAPY_REFERRAL, knee)


def _pneumonia_admission(b: _Builder, v: _Visit) -> None:
    pneumonia = b.diagnose(v, c.PNEUMONIA)
    fever = b.diagnose(v, c.FEVER)
    for test in (c.CHEST_XRAY, c.CBC, c.BMP, c.BLOOD_CULTURE):
        b.order(v, test, pneumonia)
    b.prescribe(v, c.CEFTRIAXONE_IV, pneumonia)
    b.prescribe(v, c.AZITHROMYCIN_250, pneumonia)
    b.prescribe(v, c.ACETAMINOPHEN_325, fever)
    b.prescribe(v, c.HEPARIN_SUBCUT)


def _heart_failure_admission(b: _Builder, v: _Visit) -> None:
    failure = b.diagnose(v, c.HEART_FAILURE)
    for test in (c.BNP, c.BMP, c.CHEST_XRAY, c.ECHOCARDIOGRAM, c.ECG):
        b.order(v, test, failure)
    b.prescribe(v, c.FUROSEMIDE_IV, failure)
    b.prescribe(v, c.HEPARIN_SUBCUT)
    if b.chance(0.5):
        b.prescribe(v, c.ONDANSETRON_IV)


def _no_cancer(p: _Patient, age: int) -> bool:
    return p.cancer is None


def _vitamin_d_risk_free(p: _Patient, age: int) -> bool:
    return not p.has(c.CKD_STAGE_3, c.OBESITY, c.OSTEOPOROSIS)


_SCENARIOS: tuple[_Scenario, ...] = (
    # Low-value orders, each next to the diagnosis that makes it low value.
    _Scenario(
        "low back pain imaging",
        7,
        ("home", "urgent-care", "emergency", "orthopaedics"),
        _low_back_pain_imaging,
        _no_cancer,
        low_value=True,
        refills=0.6,
    ),
    _Scenario(
        "vitamin D screening",
        7,
        ("home",),
        _wellness_vitamin_d,
        _vitamin_d_risk_free,
        low_value=True,
        visit_type=_preventive_type,
        refills=0.9,
    ),
    _Scenario(
        "PSA at 75 and over",
        10,
        ("home",),
        _psa_older_man,
        lambda p, age: p.gender == "male" and age >= 75 and not p.has(c.PROSTATE_CANCER),
        low_value=True,
        visit_type=_preventive_type,
        refills=0.9,
    ),
    _Scenario(
        "pre-op tests before cataract surgery",
        6,
        ("pre-op",),
        _preop_cataract,
        lambda p, age: age >= 55,
        low_value=True,
        refills=0.9,
    ),
    _Scenario(
        "pre-op tests before hernia repair",
        3,
        ("pre-op",),
        _preop_hernia,
        lambda p, age: age >= 30,
        low_value=True,
        refills=0.9,
    ),
    _Scenario(
        "head imaging for migraine",
        4,
        ("emergency", "neurology"),
        _migraine_imaging,
        lambda p, age: age < 70 and p.cancer is None,
        low_value=True,
        refills=0.5,
    ),
    _Scenario(
        "head CT for syncope", 4, ("emergency",), _syncope_imaging, low_value=True, refills=0.5
    ),
    _Scenario(
        "antibiotic for a cold",
        6,
        ("home", "urgent-care"),
        _antibiotic_for_cold,
        lambda p, age: not p.has(c.COPD),
        low_value=True,
        refills=0.6,
    ),
    _Scenario(
        "antibiotic for acute bronchitis",
        4,
        ("home", "urgent-care"),
        _antibiotic_for_bronchitis,
        lambda p, age: not p.has(c.COPD),
        low_value=True,
        refills=0.6,
    ),
    _Scenario(
        "T3 in hypothyroidism",
        8,
        ("home", "endocrinology"),
        _t3_in_hypothyroidism,
        lambda p, age: p.has(c.HYPOTHYROIDISM),
        low_value=True,
        refills=0.9,
    ),
    _Scenario("sinus CT", 2, ("urgent-care", "home"), _sinus_ct, low_value=True, refills=0.6),
    _Scenario(
        "PTH in CKD stage 3",
        6,
        ("home", "endocrinology"),
        _pth_in_ckd,
        lambda p, age: p.has(c.CKD_STAGE_3),
        low_value=True,
        refills=0.8,
    ),
    _Scenario(
        "DXA in a woman under 65",
        5,
        ("home",),
        _dxa_younger_woman,
        lambda p, age: (
            p.gender == "female" and age >= 50 and p.age <= 64 and not p.has(c.OSTEOPOROSIS)
        ),
        low_value=True,
        visit_type=_preventive_type,
        refills=0.9,
    ),
    _Scenario(
        "homocysteine",
        2,
        ("home",),
        _homocysteine,
        lambda p, age: age >= 40,
        low_value=True,
        refills=0.9,
    ),
    _Scenario(
        "benzodiazepine at 65 and over",
        5,
        ("home",),
        _sleeping_pill_older_adult,
        lambda p, age: age >= 65,
        low_value=True,
        refills=0.9,
    ),
    # Appropriate care, including appropriate versions of the same orders.
    _Scenario(
        "low back pain with a red flag",
        5,
        ("emergency", "home", "orthopaedics"),
        _low_back_pain_red_flag,
        febrile=True,
        refills=0.6,
    ),
    _Scenario(
        "hypertension follow-up",
        14,
        ("home",),
        _hypertension_follow_up,
        lambda p, age: p.has(c.HYPERTENSION),
        refills=1.0,
    ),
    _Scenario(
        "diabetes follow-up",
        12,
        ("home", "endocrinology"),
        _diabetes_follow_up,
        lambda p, age: p.has(c.TYPE_2_DIABETES),
        refills=1.0,
    ),
    _Scenario(
        "annual physical", 14, ("home",), _wellness, visit_type=_preventive_type, refills=0.9
    ),
    _Scenario(
        "thyroid follow-up",
        4,
        ("home", "endocrinology"),
        _thyroid_follow_up,
        lambda p, age: p.has(c.HYPOTHYROIDISM),
        refills=0.9,
    ),
    _Scenario(
        "vitamin D in CKD",
        2,
        ("home",),
        _vitamin_d_in_ckd,
        lambda p, age: p.has(c.CKD_STAGE_3),
        refills=0.8,
    ),
    _Scenario(
        "PSA after prostate cancer",
        8,
        ("home",),
        _psa_after_prostate_cancer,
        lambda p, age: p.has(c.PROSTATE_CANCER),
        refills=0.7,
    ),
    _Scenario("cold, no antibiotic", 7, ("home", "urgent-care"), _cold_supportive, refills=0.6),
    _Scenario("strep throat", 5, ("home", "urgent-care"), _strep_throat, febrile=True, refills=0.6),
    _Scenario("head injury", 3, ("emergency",), _head_injury_imaging, refills=0.5),
    _Scenario(
        "ankle sprain", 5, ("urgent-care", "emergency", "orthopaedics"), _ankle_sprain, refills=0.5
    ),
    _Scenario(
        "urinary tract infection", 5, ("home", "urgent-care"), _urinary_tract_infection, refills=0.6
    ),
    _Scenario(
        "knee osteoarthritis",
        5,
        ("orthopaedics",),
        _knee_osteoarthritis,
        lambda p, age: p.has(c.KNEE_OSTEOARTHRITIS),
    ),
    _Scenario(
        "pneumonia admission",
        5,
        ("medicine-ward",),
        _pneumonia_admission,
        febrile=True,
        refills=0.8,
    ),
    _Scenario(
        "heart failure admission",
        3,
        ("medicine-ward",),
        _heart_failure_admission,
        lambda p, age: age >= 50,
        refills=0.8,
    ),
    _Scenario(
        "cataract surgery",
        3,
        ("ophthalmology",),
        _cataract_surgery,
        lambda p, age: age >= 55,
        past_only=True,
        refills=0.0,
    ),
)
