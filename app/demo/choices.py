"""What synthetic flags are drawn from, and how often: low-value services as ordered,
departments, people, and the paths flags take through the workflow. Synthetic data only:
every name is made up, every patient and order id says "synth".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.flags.catalog import Anonymity, Driver, Priority, Reason
from app.flags.costs import CPT
from app.flags.workflow import Status

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


@dataclass(frozen=True)
class DemoPerson:
    """Someone in the demo's staff directory: a made-up name at an example.org address. The id
    is derived from the email, so flags seeded on any run point at the same records."""

    name: str
    email: str
    role: str
    active: bool = True

    @property
    def id(self) -> uuid.UUID:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"https://valueloop.example.org/staff/{self.email}")


_LINDQVIST = DemoPerson("Dr. P. Lindqvist", "p.lindqvist@example.org", "lead")
_MOREAU = DemoPerson("S. Moreau", "s.moreau@example.org", "lead")
_TANAKA = DemoPerson("Dr. H. Tanaka", "h.tanaka@example.org", "lead")
_ALVAREZ = DemoPerson("R. Alvarez", "r.alvarez@example.org", "lead")
_NWOSU = DemoPerson("Dr. E. Nwosu", "e.nwosu@example.org", "lead")
_FISCHER = DemoPerson("Dr. L. Fischer", "l.fischer@example.org", "lead")
ANALYSTS = (
    DemoPerson("A. Rivera", "a.rivera@example.org", "analyst"),
    DemoPerson("M. Chen", "m.chen@example.org", "analyst"),
    DemoPerson("K. Okafor", "k.okafor@example.org", "analyst"),
)
# Clinical lead and, for a dyad, the operational lead.
LEADS: tuple[tuple[DemoPerson, DemoPerson | None], ...] = (
    (_LINDQVIST, _MOREAU),
    (_TANAKA, _ALVAREZ),
    (_NWOSU, None),
    (_FISCHER, None),
)
DIRECTORY: tuple[DemoPerson, ...] = (
    _LINDQVIST,
    _MOREAU,
    _TANAKA,
    _ALVAREZ,
    _NWOSU,
    _FISCHER,
    *ANALYSTS,
    DemoPerson("D. Byrne", "d.byrne@example.org", "admin"),
    # Someone who left: kept, so the directory shows what deactivation looks like.
    DemoPerson("Dr. G. Halvorsen", "g.halvorsen@example.org", "lead", active=False),
)
FIRST_NAMES = ("Avery", "Jordan", "Riley", "Casey", "Morgan", "Quinn", "Parker", "Rowan", "Sage")
LAST_NAMES = ("Synthea", "Example", "Sample", "Testa", "Mock", "Demo", "Placeholder")
AGE_BANDS = (("18-34", 12), ("35-49", 16), ("50-64", 24), ("65-74", 22), ("75-84", 18), ("85+", 8))
ANONYMITY = ((Anonymity.IDENTIFIED, 75), (Anonymity.CONFIDENTIAL, 15), (Anonymity.ANONYMOUS, 10))
PRIORITIES = ((Priority.LOW, 15), (Priority.NORMAL, 65), (Priority.HIGH, 15), (Priority.URGENT, 5))
