"""What a launch shows: the patient, the encounter, its orders and the conditions behind them.

:func:`fetch_launch_context` asks for everything at once (one concurrent batch, so a launch
costs one EHR round trip, not six) and then makes sense of what real EHRs send back:

- Orders are searched by ``patient`` and ``encounter`` (both US Core search parameters for
  ServiceRequest and MedicationRequest). An EHR that does not support ``encounter`` ignores it
  (FHIR R4 search.html#errors) and returns every order the patient ever had; we notice (an
  OperationOutcome about ``encounter``, or orders that name another encounter) and keep the
  orders that name this encounter or, naming none, fall within its period, with a warning.
- Every order is kept whatever its status: stopped and completed orders are part of the
  story (DESIGN.md, "Living in an EHR frame and on real EHR data").
- Anything that names another patient is dropped, whatever the EHR did with ``patient``.
- Conditions: the encounter's diagnoses (``encounter=``) and the active problem list
  (US Core ``category=problem-list-item``), merged. They help judge the orders but are not
  the orders, so failing to read them is a warning, not a failed launch.
- Who is signed in (the ``fhirUser`` Practitioner or PractitionerRole, ``fhir_client.user``)
  is read in the same first batch; like conditions it is optional: an EHR that will not give
  it leaves ``user`` None, and the caller falls back on the id_token's claims.
- A second, smaller batch runs only when the first leaves references open: diagnoses the
  Encounter names that the Condition search did not return, and Medications that
  MedicationRequests name with ``medicationReference``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest

from fhir_client.client import FhirClient, SearchResult
from fhir_client.dates import DateRange, dates_of, encounter_period, spans
from fhir_client.errors import (
    FhirError,
    FhirHttpError,
    FhirInvalidResponseError,
    FhirResponseTooLargeError,
    FhirTimeoutError,
    FhirTransportError,
)
from fhir_client.outcomes import issue_text
from fhir_client.resources import expect_type
from fhir_client.user import FhirUser, read_user

__all__ = ["ORDER_PAGE_SIZE", "LaunchContextData", "fetch_launch_context"]

R = TypeVar("R", bound=Resource)
T = TypeVar("T")
# The three charted types whose ``subject`` and ``encounter`` we check.
C = TypeVar("C", ServiceRequest, MedicationRequest, Condition)

ORDER_PAGE_SIZE = 100
# Clinical status codes of a problem that is still a problem (FHIR R4
# valueset-condition-clinical.html); the app judges orders against these.
ACTIVE_PROBLEM_STATUSES = "active,recurrence,relapse"
# Follow-up reads (diagnoses, medications) are one request each; beyond this many, the
# second batch would cost more than the information is worth in a side panel.
MAX_FOLLOW_UP_READS = 50


@dataclass(frozen=True)
class LaunchContextData:
    """The launch's patient, encounter, orders and conditions, as R4B models.

    ``warnings`` are sentences for a person, naming no ids and quoting no EHR-written text
    (which may hold patient data): what the EHR did that changes what is shown, such as
    ignoring the ``encounter`` parameter, or a part that could not be read. For the details
    behind one, call :meth:`FhirClient.search` and read its ``invalid`` and ``outcomes``.

    ``medications`` are the Medications that ``medicationReference`` points to, where they
    could be read (contained ones stay inside their MedicationRequest). ``user`` is the
    signed-in user's name and email from their ``fhirUser`` resource, None when it was not
    asked for or could not be read.
    """

    patient: Patient
    encounter: Encounter | None
    service_requests: list[ServiceRequest]
    medication_requests: list[MedicationRequest]
    conditions: list[Condition]
    warnings: list[str]
    medications: list[Medication] = field(default_factory=list)
    user: FhirUser | None = None


async def fetch_launch_context(
    client: FhirClient,
    *,
    patient_id: str,
    encounter_id: str | None,
    readable: Callable[[str], bool] | None = None,
    fhir_user: str | None = None,
) -> LaunchContextData:
    """Everything the order list needs for one launch, read concurrently.

    Raises the :class:`FhirError` of the Patient or Encounter read or of an order search (the
    page cannot be shown without them); problems with conditions and medications become
    ``warnings``. Without an encounter (a standalone launch), the patient's orders across
    all encounters are returned, up to the client's ``max_pages``.

    ``readable`` says which resource types the token may read (EHRs may grant fewer scopes
    than asked for): types it refuses are not requested at all, and a warning says what is
    missing, so a narrower grant shows less instead of failing.

    ``fhir_user`` (``Practitioner/1`` or ``PractitionerRole/2``, from the id_token) is read
    in the same batch when the grant allows it; failing to read it only leaves ``user`` None.
    """
    can_read = readable or (lambda _resource_type: True)
    first = await _first_batch(client, patient_id, encounter_id, can_read, fhir_user)
    encounter = first.encounter
    if encounter is not None and _points_to(encounter.subject, "Patient", patient_id) is False:
        # Showing this encounter's orders beside this patient's banner would be worse than
        # showing nothing.
        raise FhirInvalidResponseError("the launch encounter belongs to a different patient")
    scope = _Scope(patient_id, encounter_id, encounter_period(encounter), warnings=[])
    for resource_type in _OPTIONAL_TYPES:
        if not can_read(resource_type):
            scope.warnings.append(
                f"The EHR did not grant access to {resource_type} records, so they are not shown."
            )
    service_requests = scope.charted(first.service_results, ServiceRequest, "ServiceRequest")
    medication_requests = scope.charted(
        first.medication_results, MedicationRequest, "MedicationRequest"
    )
    conditions = _conditions(first, scope)
    medications = [r for r in first.medication_results.included if isinstance(r, Medication)]
    extra_conditions, extra_medications = await _second_batch(
        client,
        scope,
        missing_diagnoses=_unresolved(_diagnosis_references(encounter), "Condition", conditions),
        missing_medications=_unresolved(
            (order.medicationReference for order in medication_requests), "Medication", medications
        ),
    )
    return LaunchContextData(
        patient=first.patient,
        encounter=encounter,
        service_requests=service_requests,
        medication_requests=medication_requests,
        conditions=_unique(conditions + extra_conditions),
        warnings=scope.warnings,
        medications=_unique(medications + extra_medications),
        user=first.user if isinstance(first.user, FhirUser) else None,
    )


# --- The first batch's calls ---

_OPTIONAL_TYPES = ("Encounter", "ServiceRequest", "MedicationRequest", "Condition")


@dataclass(frozen=True)
class _FirstBatch:
    """What one concurrent round trip brings back: the page's must-haves, and the conditions
    as results or as the error that kept them away."""

    patient: Patient
    encounter: Encounter | None
    service_results: SearchResult
    medication_results: SearchResult
    diagnosis_results: SearchResult | FhirError | None
    problems: SearchResult | FhirError | None
    user: FhirUser | FhirError | None


async def _first_batch(
    client: FhirClient,
    patient_id: str,
    encounter_id: str | None,
    can_read: Callable[[str], bool],
    fhir_user: str | None,
) -> _FirstBatch:
    """Patient, encounter, orders, conditions and the signed-in user, asked for at once
    (types the grant refuses are not asked for)."""
    order_params = {"patient": patient_id, "_count": str(ORDER_PAGE_SIZE)}
    if encounter_id is not None:
        order_params["encounter"] = encounter_id
    problem_params = {
        "patient": patient_id,
        "category": "problem-list-item",
        "clinical-status": ACTIVE_PROBLEM_STATUSES,
        "_count": str(ORDER_PAGE_SIZE),
    }
    conditions_readable = can_read("Condition")
    results = await client.gather(
        _read_as(client, Patient, patient_id),
        _read_encounter(client, encounter_id if can_read("Encounter") else None),
        _search_if(can_read("ServiceRequest"), client, "ServiceRequest", order_params),
        _search_if(can_read("MedicationRequest"), client, "MedicationRequest", order_params),
        _optional(_search_diagnoses(client, patient_id, encounter_id))
        if conditions_readable
        else _nothing(),
        _optional(client.search("Condition", problem_params))
        if conditions_readable
        else _nothing(),
        read_user(client, fhir_user)
        if fhir_user and can_read(fhir_user.partition("/")[0])
        else _nothing(),
    )
    return _FirstBatch(*results)


def _conditions(first: _FirstBatch, scope: _Scope) -> list[Condition]:
    """The encounter's diagnoses and the patient's problem list; what failed is a warning."""
    conditions: list[Condition] = []
    if isinstance(first.diagnosis_results, FhirError):
        scope.warnings.append(
            f"The encounter's diagnoses could not be read ({_reason(first.diagnosis_results)})."
        )
    elif first.diagnosis_results is not None:
        conditions += scope.charted(first.diagnosis_results, Condition, "Condition")
    if isinstance(first.problems, FhirError):
        scope.warnings.append(f"The problem list could not be read ({_reason(first.problems)}).")
    elif first.problems is not None:
        # The problem list is not tied to an encounter: only the patient check applies.
        conditions += scope.charted(first.problems, Condition, "Condition", by_encounter=False)
    return conditions


async def _second_batch(
    client: FhirClient,
    scope: _Scope,
    *,
    missing_diagnoses: list[str],
    missing_medications: list[str],
) -> tuple[list[Condition], list[Medication]]:
    """The diagnoses and medications the first batch named but did not bring, in one more
    round trip only when there are any."""
    if not missing_diagnoses and not missing_medications:
        return [], []
    conditions, medications = await client.gather(
        _read_all(client, Condition, missing_diagnoses, scope, "of the encounter's diagnoses"),
        _read_all(client, Medication, missing_medications, scope, "medications"),
    )
    return [c for c in conditions if scope.is_patients(c.subject)], medications


async def _search_if(
    allowed: bool, client: FhirClient, resource_type: str, params: Mapping[str, str]
) -> SearchResult:
    if not allowed:
        return SearchResult(resources=[], outcomes=[], truncated=False)
    return await client.search(resource_type, params)


async def _nothing() -> None:
    return None


async def _read_as(client: FhirClient, model: type[R], resource_id: str) -> R:
    return expect_type(await client.read(model.get_resource_type(), resource_id), model)


async def _read_encounter(client: FhirClient, encounter_id: str | None) -> Encounter | None:
    if encounter_id is None:
        return None
    return await _read_as(client, Encounter, encounter_id)


async def _search_diagnoses(
    client: FhirClient, patient_id: str, encounter_id: str | None
) -> SearchResult | None:
    if encounter_id is None:
        return None
    params = {"patient": patient_id, "encounter": encounter_id, "_count": str(ORDER_PAGE_SIZE)}
    return await client.search("Condition", params)


async def _optional(call: Awaitable[T]) -> T | FhirError:
    """The call's result, or its FhirError as a value so the rest of the batch goes on."""
    try:
        return await call
    except FhirError as error:
        return error


async def _read_all(
    client: FhirClient, model: type[R], ids: list[str], scope: _Scope, what: str
) -> list[R]:
    """Optional reads, concurrently; failures become one warning."""
    if not ids:
        return []
    if len(ids) > MAX_FOLLOW_UP_READS:
        skipped = len(ids) - MAX_FOLLOW_UP_READS
        scope.warnings.append(f"{skipped} {what} were not read: there were too many.")
    wanted = ids[:MAX_FOLLOW_UP_READS]
    results = await client.gather(*(_optional(_read_as(client, model, i)) for i in wanted))
    failures = [result for result in results if isinstance(result, FhirError)]
    if failures:
        scope.warnings.append(f"{len(failures)} {what} could not be read ({_reason(failures[0])}).")
    return [result for result in results if not isinstance(result, FhirError)]


# --- Making sense of the answers ---


@dataclass
class _Scope:
    """Which records belong on this launch's page, and the warnings deciding that produced."""

    patient_id: str
    encounter_id: str | None
    period: DateRange | None
    warnings: list[str]

    def is_patients(self, subject: Reference | None) -> bool:
        # A reference we cannot resolve (identifier only) is given the benefit of the
        # doubt: the server matched it on patient=, and it names nobody else.
        return _points_to(subject, "Patient", self.patient_id) is not False

    def charted(
        self, result: SearchResult, model: type[C], kind: str, *, by_encounter: bool = True
    ) -> list[C]:
        """``result``'s resources that are this patient's (and this encounter's)."""
        self._relay(result, kind)
        records = [r for r in result.resources if isinstance(r, model)]
        mine = [r for r in records if self.is_patients(r.subject)]
        if len(mine) < len(records):
            self.warnings.append(
                f"The EHR returned {len(records) - len(mine)} {kind} record(s) of another "
                "patient; they are not shown."
            )
        if not by_encounter or self.encounter_id is None:
            return mine
        ignored = _mentions_encounter(result) or any(
            _points_to(r.encounter, "Encounter", self.encounter_id) is False for r in mine
        )
        if not ignored:
            return mine
        if self.period is None:
            self.warnings.append(
                f"The EHR ignored the encounter parameter of the {kind} search, and the "
                f"encounter has no start date: only {kind} records that name this encounter "
                "are shown."
            )
            return [r for r in mine if _points_to(r.encounter, "Encounter", self.encounter_id)]
        self.warnings.append(
            f"The EHR ignored the encounter parameter of the {kind} search; {kind} records "
            "were matched by patient and the encounter's dates instead."
        )
        return [r for r in mine if _in_encounter(r, self.encounter_id, self.period)]

    def _relay(self, result: SearchResult, kind: str) -> None:
        """Warnings for what the search could not deliver."""
        if result.truncated:
            self.warnings.append(
                f"The EHR has more {kind} records than one search reads; some are not shown."
            )
        if result.invalid:
            self.warnings.append(
                f"{len(result.invalid)} {kind} record(s) from the EHR are not valid FHIR and "
                "are not shown."
            )
        if any(
            issue.severity in ("error", "fatal")
            for outcome in result.outcomes
            for issue in outcome.issue
        ):
            self.warnings.append(
                f"The EHR reported an error with the {kind} search; some records may be missing."
            )


def _reason(error: FhirError) -> str:
    """Why a read failed, in words fit for a side panel: no ids, no EHR-written text."""
    if isinstance(error, FhirHttpError):
        return f"the EHR answered HTTP {error.status}"
    if isinstance(error, FhirTimeoutError):
        return "the EHR did not answer in time"
    if isinstance(error, FhirTransportError):
        return "the EHR could not be reached"
    if isinstance(error, FhirInvalidResponseError):
        return "the EHR's answer was not valid FHIR"
    if isinstance(error, FhirResponseTooLargeError):
        return "the EHR's answer was too large"
    return type(error).__name__


def _mentions_encounter(result: SearchResult) -> bool:
    """Whether the server's outcome notes name the ``encounter`` parameter (search.html#errors:
    servers report the parameters they ignored; HAPI-style servers do it in an outcome)."""
    for outcome in result.outcomes:
        for issue in outcome.issue:
            texts = [issue_text(issue), *(issue.expression or []), *(issue.location or [])]
            if any(text and "encounter" in text.lower() for text in texts):
                return True
    return False


def _reference_parts(reference: Reference | None) -> tuple[str, str] | None:
    """(type, id) of a literal reference: ``Type/id``, an absolute URL, or a versioned one.

    FHIR R4 references.html#literal. None for contained (``#x``), identifier-only and
    malformed references.
    """
    if reference is None or not reference.reference or reference.reference.startswith("#"):
        return None
    parts = reference.reference.split("/_history/")[0].rstrip("/").split("/")
    if len(parts) < 2 or not parts[-1]:
        return None
    return parts[-2], parts[-1]


def _points_to(reference: Reference | None, resource_type: str, resource_id: str) -> bool | None:
    """True/False when ``reference`` is literal, None when it cannot say (absent, contained
    or identifier-only)."""
    parts = _reference_parts(reference)
    if parts is None:
        return None
    return parts == (resource_type, resource_id)


def _in_encounter(
    record: ServiceRequest | MedicationRequest | Condition, encounter_id: str, period: DateRange
) -> bool:
    """Names this encounter, or names none and is dated within its period."""
    named = _points_to(record.encounter, "Encounter", encounter_id)
    if named is not None:
        return named
    low, high = period
    return any(start <= high and end >= low for start, end in spans(dates_of(record)))


def _diagnosis_references(encounter: Encounter | None) -> list[Reference]:
    if encounter is None:
        return []
    return [diagnosis.condition for diagnosis in encounter.diagnosis or []]


def _unresolved(
    references: Iterable[Reference | None], resource_type: str, have: list[R]
) -> list[str]:
    """Ids that ``references`` name, of ``resource_type``, that are not in ``have``."""
    known = {resource.id for resource in have}
    wanted: dict[str, None] = {}  # ordered, without repeats
    for reference in references:
        parts = _reference_parts(reference)
        if parts is not None and parts[0] == resource_type and parts[1] not in known:
            wanted[parts[1]] = None
    return list(wanted)


def _unique(resources: list[R]) -> list[R]:
    seen: set[str] = set()
    unique = []
    for resource in resources:
        if resource.id is not None:
            if resource.id in seen:
                continue
            seen.add(resource.id)
        unique.append(resource)
    return unique
