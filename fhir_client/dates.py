"""FHIR dates as time spans: what places an order or a condition in time, and an encounter's
period, so records an EHR did not tie to the encounter can be matched by date instead.

A FHIR date covers the span its precision says (FHIR R4 datatypes.html#dateTime): "2024" is
the whole year, a day is 24 hours, a dateTime an instant.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

__all__ = ["LATEST", "DateRange", "dates_of", "encounter_period", "span", "spans"]

DateRange = tuple[datetime, datetime]
LATEST = datetime.max.replace(tzinfo=UTC)


def dates_of(record: ServiceRequest | MedicationRequest | Condition) -> list[object]:
    """The dates that place a record in time, most telling first."""
    if isinstance(record, ServiceRequest):
        started = record.occurrencePeriod.start if record.occurrencePeriod else None
        return [record.authoredOn, record.occurrenceDateTime, started]
    if isinstance(record, MedicationRequest):
        return [record.authoredOn]
    return [record.recordedDate, record.onsetDateTime]


def encounter_period(encounter: Encounter | None) -> DateRange | None:
    """The encounter's period as a range; an open end (in progress) runs to the end of time."""
    if encounter is None or encounter.period is None:
        return None
    start = span(encounter.period.start)
    if start is None:
        return None
    end = span(encounter.period.end)
    return start[0], end[1] if end else LATEST


def spans(values: Iterable[object]) -> Iterable[DateRange]:
    for value in values:
        found = span(value)
        if found is not None:
            yield found


def span(value: object) -> DateRange | None:
    """A FHIR date or dateTime as the span its precision covers (FHIR R4 datatypes.html#dateTime).

    ``fhir.resources`` gives a datetime, a date, or the text of a partial date ("2024",
    "2024-05"). Dates without a time zone are read as UTC.
    """
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment, moment
    if isinstance(value, date):
        start = datetime.combine(value, time.min, tzinfo=UTC)
        return start, start + timedelta(days=1)
    if isinstance(value, str):
        year, _, month = value.partition("-")
        try:
            if year.isdigit() and not month:
                start = datetime(int(year), 1, 1, tzinfo=UTC)
                return start, start.replace(year=start.year + 1)
            if year.isdigit() and month.isdigit():
                start = datetime(int(year), int(month), 1, tzinfo=UTC)
                return start, (start + timedelta(days=32)).replace(day=1)
        except (ValueError, OverflowError):  # month 13, year 9999 + 1
            return None
    return None
