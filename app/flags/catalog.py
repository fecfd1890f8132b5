"""The registry's controlled vocabularies.

Borrowed from patient-safety event reporting and adapted to value: why the order is low-value
(reason), what probably led to it (suspected driver), when it was caught (timing) and how much
of the reporter's identity is kept (anonymity). The values are stable API and database values;
labels are what people read.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum


class Reason(StrEnum):
    NOT_INDICATED = "not_indicated"
    REPEAT_DUPLICATE = "repeat_duplicate"
    LOWER_COST_ALTERNATIVE = "lower_cost_alternative"
    LOW_BENEFIT = "low_benefit"
    OTHER = "other"


REASON_LABELS: dict[Reason, str] = {
    Reason.NOT_INDICATED: "Not indicated",
    Reason.REPEAT_DUPLICATE: "Repeat or duplicate",
    Reason.LOWER_COST_ALTERNATIVE: "Lower-cost alternative exists",
    Reason.LOW_BENEFIT: "Low benefit for this patient",
    Reason.OTHER: "Other",
}


REASON_DESCRIPTIONS: dict[Reason, str] = {
    Reason.NOT_INDICATED: "No clinical indication for this patient (e.g. imaging for "
    "uncomplicated low back pain in the first six weeks).",
    Reason.REPEAT_DUPLICATE: "Repeats a test or treatment whose result is recent and still "
    "valid, or duplicates another order.",
    Reason.LOWER_COST_ALTERNATIVE: "An equally effective, cheaper option exists (e.g. a "
    "generic, or a lower-cost setting).",
    Reason.LOW_BENEFIT: "Little expected benefit given this patient's age, prognosis or "
    "preferences (e.g. screening past the recommended age).",
    Reason.OTHER: "Another reason, explained in the note.",
}


class Driver(StrEnum):
    """Suspected driver, from the published barriers to reducing overuse."""

    PATIENT_REQUEST = "patient_request"
    ORDER_SET_DEFAULT = "order_set_default"
    PROTOCOL = "protocol"
    SPECIALIST_REQUEST = "specialist_request"
    DEFENSIVE_MEDICINE = "defensive_medicine"
    MISSING_PRIOR_RESULT = "missing_prior_result"
    PAYER_RULE = "payer_rule"
    OTHER = "other"


DRIVER_LABELS: dict[Driver, str] = {
    Driver.PATIENT_REQUEST: "Patient request",
    Driver.ORDER_SET_DEFAULT: "Order-set default",
    Driver.PROTOCOL: "Protocol",
    Driver.SPECIALIST_REQUEST: "Specialist request",
    Driver.DEFENSIVE_MEDICINE: "Defensive medicine",
    Driver.MISSING_PRIOR_RESULT: "Missing prior result",
    Driver.PAYER_RULE: "Payer rule",
    Driver.OTHER: "Other",
}


class Timing(StrEnum):
    """Caught before the order was carried out (a good catch), or after."""

    BEFORE = "before"
    AFTER = "after"


class Anonymity(StrEnum):
    """How much of the reporter's identity the registry keeps and shows.

    identified: stored and shown. confidential: stored (the loop can close) but hidden from
    dashboard and API readers. anonymous: not stored at all; the reporter follows the flag
    with a receipt token.
    """

    IDENTIFIED = "identified"
    CONFIDENTIAL = "confidential"
    ANONYMOUS = "anonymous"


class ReporterRole(StrEnum):
    PHYSICIAN = "physician"
    RESIDENT = "resident"
    ADVANCED_PRACTICE_PROVIDER = "advanced_practice_provider"
    NURSE = "nurse"
    PHARMACIST = "pharmacist"
    OTHER = "other"


REPORTER_ROLE_LABELS: dict[ReporterRole, str] = {
    ReporterRole.PHYSICIAN: "Physician",
    ReporterRole.RESIDENT: "Resident",
    ReporterRole.ADVANCED_PRACTICE_PROVIDER: "Advanced practice provider",
    ReporterRole.NURSE: "Nurse",
    ReporterRole.PHARMACIST: "Pharmacist",
    ReporterRole.OTHER: "Other",
}


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


PRIORITY_LABELS: dict[Priority, str] = {
    Priority.LOW: "Low",
    Priority.NORMAL: "Normal",
    Priority.HIGH: "High",
    Priority.URGENT: "Urgent",
}


class OrderResourceType(StrEnum):
    SERVICE_REQUEST = "ServiceRequest"
    MEDICATION_REQUEST = "MedicationRequest"


class OrderStatus(StrEnum):
    """FHIR R4 RequestStatus (http://hl7.org/fhir/request-status)."""

    DRAFT = "draft"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    REVOKED = "revoked"
    COMPLETED = "completed"
    ENTERED_IN_ERROR = "entered-in-error"
    STOPPED = "stopped"  # MedicationRequest's status set adds 'stopped' and 'cancelled'
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


class OrderIntent(StrEnum):
    """FHIR R4 RequestIntent (http://hl7.org/fhir/request-intent)."""

    PROPOSAL = "proposal"
    PLAN = "plan"
    DIRECTIVE = "directive"
    ORDER = "order"
    ORIGINAL_ORDER = "original-order"
    REFLEX_ORDER = "reflex-order"
    FILLER_ORDER = "filler-order"
    INSTANCE_ORDER = "instance-order"
    OPTION = "option"


class AdministrativeSex(StrEnum):
    """FHIR R4 AdministrativeGender."""

    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


class AgeBand(StrEnum):
    """Age in bands: enough to judge age-based rules (PSA at 75+, DXA at 50-64), no birth date."""

    UNDER_18 = "0-17"
    FROM_18 = "18-34"
    FROM_35 = "35-49"
    FROM_50 = "50-64"
    FROM_65 = "65-74"
    FROM_75 = "75-84"
    FROM_85 = "85+"

    @classmethod
    def on(cls, born: date, day: date) -> AgeBand:
        """The band of someone born on ``born``, as old as they are on ``day``."""
        years = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
        return cls.for_age(max(years, 0))

    @classmethod
    def for_age(cls, years: int) -> AgeBand:
        if years < 0:
            raise ValueError("age cannot be negative")
        for lower, band in _BAND_LOWER_BOUNDS:
            if years >= lower:
                return band
        return cls.UNDER_18


_BAND_LOWER_BOUNDS: tuple[tuple[int, AgeBand], ...] = (
    (85, AgeBand.FROM_85),
    (75, AgeBand.FROM_75),
    (65, AgeBand.FROM_65),
    (50, AgeBand.FROM_50),
    (35, AgeBand.FROM_35),
    (18, AgeBand.FROM_18),
)
