"""History a rule needs, as FHIR R4 searches, and the protocol the caller answers them with.

A rule that needs history (a DXA two years ago, a surgery booked next week) never guesses
from silence: when the case does not hold a search that covers the rule's window, the
decision says ``could not decide`` and lists the searches that would settle it. The caller
runs them with its own FHIR client and evaluates again. This package does no HTTP.

Searches carry the patient and a date window but no codes: FHIR token search has no ranges,
and writing ``72010-72120`` out as 111 codes per search costs more than filtering here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

from fhir.resources.R4B.resource import Resource

if TYPE_CHECKING:
    from lowvalue.case import Case
    from lowvalue.catalog import Catalog, VariantName
    from lowvalue.trace import Decision

__all__ = ["DATE_PARAMS", "HistoryRequest", "HistorySource", "evaluate_with_history"]

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


class HistorySource(Protocol):
    """Answers a history search, e.g. with the app's FHIR client following every page."""

    async def search(self, request: HistoryRequest) -> list[Resource]: ...


async def evaluate_with_history(
    case: Case,
    source: HistorySource,
    *,
    catalog: Catalog | None = None,
    variants: Mapping[str, VariantName] | None = None,
    max_rounds: int = 3,
) -> tuple[list[Decision], Case]:
    """Evaluate, fetch the history the undecided rules ask for (concurrently), evaluate again.

    Returns the decisions and the case with the history it gained, so a caller can keep it.
    Stops after ``max_rounds`` searches rounds; a rule still undecided then stays undecided.
    """
    from lowvalue.evaluator import evaluate, needed

    decisions = evaluate(case, catalog=catalog, variants=variants)
    for _ in range(max_rounds):
        requests = [request for request in needed(decisions) if not case.covers(request)]
        if not requests:
            break
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(source.search(request)) for request in requests]
        for request, task in zip(requests, tasks, strict=True):
            case = case.with_history(request, task.result())
        decisions = evaluate(case, catalog=catalog, variants=variants)
    return decisions, case
