"""The case a rule reads: the draft orders, the patient, the encounter, its conditions and
any history, as ``fhir.resources.R4B`` models, and the date it is evaluated on.

The evaluation date is the order's ``authoredOn`` (the encounter's ``period.start`` when the
order has none), never today's date: ages and windows are counted from it, so an order from
2016 re-evaluated today gets the answer it would have got then.

``case_from_cds_request`` reads a CDS Hooks 2.0 request (``context.draftOrders`` and
``prefetch``): prefetch ``patient``, ``encounter``, ``conditions`` (a Bundle) and any key
starting with ``history`` (a Bundle or a resource). A history Bundle whose ``self`` link is a
search this package understands counts as that search's complete answer; otherwise its
resources are still read, but their absence proves nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypeVar, cast

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from lowvalue.catalog import Catalog
from lowvalue.errors import CaseError
from lowvalue.history import HistoryRequest
from lowvalue.relevance import history_filter

__all__ = [
    "Case",
    "Order",
    "as_date",
    "case_from_cds_request",
    "case_from_resources",
    "evaluation_date",
    "parse_resource",
]

Order = ServiceRequest | MedicationRequest
R = TypeVar("R", bound=Resource)


def as_date(value: object) -> date | None:
    """A FHIR date, dateTime or partial date (``2026``, ``2026-04``) as a day: the first day
    of a partial date, the local day of a dateTime as written."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) >= 4:
        text = value[:10]
        text += "-01" * ((10 - len(text)) // 3)
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    return None


def parse_resource(
    data: object,
    *,
    expected: type[R] | None = None,
    what: str = "",
    notes: list[str] | None = None,
) -> Resource:
    """A JSON resource (or an R4B model) as its R4B model; CaseError naming the element.

    Elements the R4 model does not define are left out rather than refused, and named in
    ``notes`` when given: EHRs send them (the CDS Hooks order-sign R4 example itself carries
    the STU3 ``Dosage.doseQuantity``), and no rule reads an element R4 does not have, so
    ignoring it cannot change a decision. Anything else invalid (a missing required element,
    a wrong type) is still a CaseError: that resource cannot be read safely.
    """
    if isinstance(data, Resource):
        model: Resource = data
    else:
        if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
            raise CaseError(f"{what or 'a resource'} is not a FHIR resource (no resourceType)")
        try:
            cls = get_fhir_model_class(data["resourceType"])
            model = _validated(cls, data, what or data["resourceType"], notes)
        except ValueError as exc:
            raise CaseError(
                f"{what or data['resourceType']} is not valid FHIR R4: {_summary(exc)}"
            ) from None
    if expected is not None and not isinstance(model, expected):
        raise CaseError(
            f"{what or 'a resource'} must be a {expected.__name__}, "
            f"not a {model.get_resource_type()}"
        )
    return model


def _validated(
    cls: type[Any], data: dict[str, Any], what: str, notes: list[str] | None
) -> Resource:
    """``data`` as ``cls``, leaving out elements the model does not define (see
    :func:`parse_resource`); the ValidationError when anything else is wrong."""
    try:
        return cast("Resource", cls.model_validate(data))
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if not errors or any(error["type"] != "extra_forbidden" for error in errors):
            raise
        unknown = [error["loc"] for error in errors]
    pruned = copy.deepcopy(data)
    for location in unknown:
        _drop(pruned, location)
    model = cast("Resource", cls.model_validate(pruned))
    if notes is not None:
        paths = ", ".join(".".join(str(part) for part in location) for location in unknown)
        notes.append(f"{what}: left out elements FHIR R4 does not define ({paths})")
    return model


def _drop(data: Any, location: tuple[int | str, ...]) -> None:
    """Remove the element at ``location`` (a pydantic error location: JSON keys and list
    indexes) from ``data``."""
    *parents, last = location
    for part in parents:
        data = data[part]
    if isinstance(data, dict):
        data.pop(last, None)


def _summary(exc: ValueError) -> str:
    """The first problem as ``element: rule``, without values (they are patient data)."""
    if isinstance(exc, ValidationError) and exc.errors():
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(resource)"
        return f"{where}: {first['msg']}"
    return "unknown resource type"


def _reference_id(reference: Any) -> str | None:
    text = getattr(reference, "reference", None)
    return text.rsplit("/", 1)[-1] if isinstance(text, str) else None


def evaluation_date(order: Order, encounter: Encounter | None) -> date:
    """The order's ``authoredOn``, else its encounter's ``period.start``; never the clock."""
    found = as_date(order.authoredOn)
    if found is None and encounter is not None and encounter.period is not None:
        found = as_date(encounter.period.start)
    if found is None:
        raise CaseError(
            f"{order.get_resource_type()}/{order.id or '?'} has no authoredOn and its encounter "
            "no period.start: there is no date to evaluate it on"
        )
    return found


@dataclass(frozen=True)
class Case:
    """Everything the rules may read. Build it with :func:`case_from_resources` or
    :func:`case_from_cds_request`; ``searched`` are the searches ``history`` fully answers."""

    patient: Patient
    orders: tuple[Order, ...]
    encounter: Encounter | None = None
    conditions: tuple[Condition, ...] = ()
    history: tuple[Resource, ...] = ()
    searched: tuple[HistoryRequest, ...] = ()
    # What was read with a remark: draft orders of types no rule reads (a NutritionOrder),
    # elements left out. Sentences naming types and element paths, never values.
    notes: tuple[str, ...] = ()

    @property
    def patient_id(self) -> str:
        return self.patient.id or "unknown"

    def covers(self, request: HistoryRequest) -> bool:
        return any(done.covers(request) for done in self.searched)

    def with_history(self, request: HistoryRequest, resources: Iterable[object]) -> Case:
        """This case plus ``request``'s complete answer."""
        parsed = tuple(
            parse_resource(item, what=f"a result of {request.query}") for item in resources
        )
        return replace(self, history=self.history + parsed, searched=(*self.searched, request))

    def with_resources(self, resources: Iterable[object]) -> Case:
        """This case plus history resources that answer no search in full (a search cut
        short): they can show that something happened, never that it did not."""
        parsed = tuple(parse_resource(item, what="a history resource") for item in resources)
        return replace(self, history=self.history + parsed)

    def encounter_on(self, on: date) -> Encounter | None:
        """The case's encounter, else a history Encounter whose period holds ``on``."""
        if self.encounter is not None:
            return self.encounter
        for resource in self.history:
            if isinstance(resource, Encounter) and resource.period is not None:
                start, end = as_date(resource.period.start), as_date(resource.period.end)
                if start is not None and start <= on and (end is None or on <= end):
                    return resource
        return None


def case_from_resources(
    *,
    patient: object,
    orders: Sequence[object],
    encounter: object | None = None,
    conditions: Sequence[object] = (),
    history: Sequence[object] = (),
    searched: Sequence[HistoryRequest] = (),
    only_for: Catalog | None = None,
    medications: Sequence[object] = (),
) -> Case:
    """A case from R4B models or JSON dicts; CaseError when one is not the resource it should
    be. Draft orders of a type no rule reads (NutritionOrder, DeviceRequest,
    VisionPrescription...) are left unjudged and named in ``notes``: the rules read
    ServiceRequest and MedicationRequest.

    A MedicationRequest that names its drug by ``medicationReference`` is judged on the code
    of that Medication when it is among ``medications`` (or among the draft orders, as an
    EHR may bundle it with them); a contained one the rules find themselves.

    With ``only_for``, conditions and history resources no rule of that catalog could read
    are left out before they are parsed (``lowvalue.relevance``): the same decisions for
    that catalog, at a fraction of the CPU."""
    if not orders:
        raise CaseError("the case has no draft orders")
    notes: list[str] = []
    parsed_patient = parse_resource(patient, expected=Patient, what="the patient", notes=notes)
    parsed_orders = []
    drugs = [parse_resource(m, expected=Medication, what="a medication") for m in medications]
    for index, order in enumerate(orders):
        model = parse_resource(order, what=f"draft order {index + 1}", notes=notes)
        if isinstance(model, Medication):
            drugs.append(model)  # what a draft MedicationRequest may point to, not an order
            continue
        if not isinstance(model, ServiceRequest | MedicationRequest):
            notes.append(
                f"draft order {index + 1} is a {model.get_resource_type()}: no rule reads "
                "that type, so it was not judged"
            )
            continue
        parsed_orders.append(model)
    return Case(
        patient=parsed_patient,  # type: ignore[arg-type]
        orders=tuple(_with_medication_codes(parsed_orders, drugs)),
        encounter=None
        if encounter is None
        else parse_resource(encounter, expected=Encounter, what="the encounter", notes=notes),  # type: ignore[arg-type]
        conditions=tuple(
            parse_resource(c, expected=Condition, what="a condition", notes=notes)  # type: ignore[misc]
            for c in _wanted(conditions, only_for, has_encounter=encounter is not None)
        ),
        history=tuple(
            parse_resource(item, what="a history resource", notes=notes)
            for item in _wanted(history, only_for, has_encounter=encounter is not None)
        ),
        searched=tuple(searched),
        notes=tuple(notes),
    )


def _with_medication_codes(
    orders: list[ServiceRequest | MedicationRequest], medications: Sequence[Resource]
) -> list[ServiceRequest | MedicationRequest]:
    """Each MedicationRequest that names a given Medication by reference, as a copy carrying
    that Medication's code in ``medicationCodeableConcept`` (what the rules read)."""
    by_reference = {
        f"Medication/{drug.id}": drug
        for drug in medications
        if isinstance(drug, Medication) and drug.id and drug.code is not None
    }
    if not by_reference:
        return orders
    resolved: list[ServiceRequest | MedicationRequest] = []
    for order in orders:
        target = (
            str(order.medicationReference.reference or "")
            if isinstance(order, MedicationRequest)
            and order.medicationCodeableConcept is None
            and order.medicationReference is not None
            else ""
        )
        # A relative reference or an absolute URL ending in it (FHIR R4 references.html).
        drug = next((d for ref, d in by_reference.items() if target.endswith(ref)), None)
        resolved.append(
            order
            if drug is None
            else order.model_copy(update={"medicationCodeableConcept": drug.code})
        )
    return resolved


def _wanted(
    history: Sequence[object], catalog: Catalog | None, *, has_encounter: bool
) -> Iterable[object]:
    if catalog is None:
        return history
    return filter(history_filter(catalog, has_encounter=has_encounter), history)


def _bundle_resources(value: object, what: str) -> list[object]:
    """The resources of a Bundle (skipping OperationOutcome entries), or a lone resource."""
    if not isinstance(value, dict):
        raise CaseError(f"{what} must be a FHIR resource or Bundle (a JSON object)")
    if value.get("resourceType") != "Bundle":
        return [value]
    entries = value.get("entry") or []
    if not isinstance(entries, list):
        raise CaseError(f"{what}: Bundle.entry must be a list")
    found = []
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if resource is None:
            raise CaseError(f"{what}: a Bundle entry has no resource")
        if isinstance(resource, dict) and resource.get("resourceType") == "OperationOutcome":
            continue  # search.mode = outcome: a server's remark, not a match
        found.append(resource)
    return found


def _self_search(value: object) -> HistoryRequest | None:
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        return None
    for link in value.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "self":
            url = link.get("url")
            return HistoryRequest.from_query(url) if isinstance(url, str) else None
    return None


def case_from_cds_request(body: object, *, only_for: Catalog | None = None) -> Case:
    """A case from a CDS Hooks request body (order-select / order-sign shape); ``only_for``
    as for :func:`case_from_resources`."""
    if not isinstance(body, Mapping):
        raise CaseError("a CDS Hooks request is a JSON object")
    context, prefetch = body.get("context"), body.get("prefetch") or {}
    if not isinstance(context, Mapping) or not isinstance(prefetch, Mapping):
        raise CaseError("a CDS Hooks request needs a 'context' object (and 'prefetch', if any)")
    if context.get("draftOrders") is None:
        raise CaseError("context.draftOrders is missing: the rules evaluate draft orders")
    if prefetch.get("patient") is None:
        raise CaseError("prefetch.patient is missing: ages and sex come from the Patient")
    history: list[object] = []
    searched: list[HistoryRequest] = []
    for key, value in prefetch.items():
        if isinstance(key, str) and key.startswith("history") and value is not None:
            history.extend(_bundle_resources(value, f"prefetch.{key}"))
            if (search := _self_search(value)) is not None:
                searched.append(search)
    conditions = prefetch.get("conditions")
    # A whole-record condition search (the services' prefetch) also proves an absence.
    if conditions is not None and (search := _self_search(conditions)) is not None:
        searched.append(search)
    return case_from_resources(
        patient=prefetch["patient"],
        orders=_bundle_resources(context["draftOrders"], "context.draftOrders"),
        encounter=prefetch.get("encounter"),
        conditions=[]
        if conditions is None
        else _bundle_resources(conditions, "prefetch.conditions"),
        history=history,
        searched=searched,
        only_for=only_for,
    )
