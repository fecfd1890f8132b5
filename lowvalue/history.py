"""History a rule needs, as FHIR R4 searches (``lowvalue.fetching`` answers them).

A rule that needs history (a DXA two years ago, a surgery booked next week) never guesses
from silence: when the case does not hold a search that covers the rule's window, the
decision says ``could not decide`` and lists the searches that would settle it. The caller
runs them with its own FHIR client and evaluates again. This package does no HTTP.

Searches carry the patient and a date window but no codes: FHIR token search has no ranges,
and writing ``72010-72120`` out as 111 codes per search costs more than filtering here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = ["DATE_PARAMS", "HistoryRequest"]

# The R4 search parameter that dates each resource type (R4 SearchParameter registry).
# ServiceRequest has two: ``authored`` for prior tests, ``occurrence`` for booked services.
DATE_PARAMS: dict[str, tuple[str, ...]] = {
    "Procedure": ("date",),
    "ServiceRequest": ("authored", "occurrence"),
    "Observation": ("date",),
    "MedicationRequest": ("authoredon",),
    "Encounter": ("date",),
    "Condition": (),
}


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    """One FHIR search: ``resource_type?patient=...&<date_param>=ge<since>&<...>=le<until>``.

    ``date_param`` None with no dates means every resource of that type for the patient.
    """

    resource_type: str
    patient: str
    date_param: str | None = None
    since: date | None = None
    until: date | None = None

    @property
    def params(self) -> tuple[tuple[str, str], ...]:
        params = [("patient", self.patient)]
        if self.date_param and self.since:
            params.append((self.date_param, f"ge{self.since.isoformat()}"))
        if self.date_param and self.until:
            params.append((self.date_param, f"le{self.until.isoformat()}"))
        return tuple(params)

    @property
    def query(self) -> str:
        """The search as a relative URL, e.g. ``Procedure?patient=p1&date=ge2024-05-01``."""
        return f"{self.resource_type}?{urlencode(self.params)}"

    def covers(self, other: HistoryRequest) -> bool:
        """Whether this search's answer holds every resource ``other`` would return."""
        if (self.resource_type, self.patient) != (other.resource_type, other.patient):
            return False
        if self.date_param is None and self.since is None and self.until is None:
            return True
        return (
            self.date_param == other.date_param
            and (self.since is None or (other.since is not None and self.since <= other.since))
            and (self.until is None or (other.until is not None and other.until <= self.until))
        )

    @classmethod
    def from_query(cls, query: str) -> HistoryRequest | None:
        """Read a search back from its URL (a searchset Bundle's ``self`` link), or None when
        it is not a search this package would make (other parameters, several patients...)."""
        parts = urlsplit(query)
        resource_type = parts.path.rstrip("/").rsplit("/", 1)[-1]
        if resource_type not in DATE_PARAMS:
            return None
        params = parse_qsl(parts.query)
        patients = [value.rsplit("/", 1)[-1] for name, value in params if name == "patient"]
        dated = [(name, value) for name, value in params if name in DATE_PARAMS[resource_type]]
        others = [
            name for name, _ in params if name not in {"patient", *DATE_PARAMS[resource_type]}
        ]
        if len(patients) != 1 or len({name for name, _ in dated}) > 1:
            return None
        if [name for name in others if not name.startswith("_")]:
            return None  # filtered by code, status...: it does not cover a date window
        since = until = None
        try:
            for _, value in dated:
                if value.startswith("ge"):
                    since = date.fromisoformat(value[2:12])
                elif value.startswith("le"):
                    until = date.fromisoformat(value[2:12])
                else:
                    return None
        except ValueError:
            return None
        param = dated[0][0] if dated else None
        return cls(resource_type, patients[0], param, since, until)
