"""Which history resources a catalog's rules could ever read, so the rest need not be parsed.

Turning a JSON resource into its R4B model is most of the CPU a CDS call costs (tens of
microseconds per resource, and a prefetched history holds dozens), while most of a patient's
history is orders no rule is about. The rules read history in exactly three ways:

- service clauses look for a resource of their ``resource_types`` coded in their code set;
- diagnosis clauses read every Condition, the history's included;
- the setting check reads a history Encounter, only when the case has no encounter of its own.

A history resource that none of these could match is left out before parsing. Leaving it out
cannot change a decision: no clause would have looked at it. Codes are compared regardless of
their dates (a retired code is still kept, so a trace can say it was seen).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from lowvalue.catalog import Catalog, Clause, ServiceClause
from lowvalue.codes import CodeSet, Coding

__all__ = ["history_filter"]

# Where each history type carries the code a service clause matches (clauses.py _code_text).
_CODE_ELEMENT = {
    "Procedure": "code",
    "ServiceRequest": "code",
    "Observation": "code",
    "MedicationRequest": "medicationCodeableConcept",
}
_ANY_DAY = date(2000, 1, 1)  # CodeSet.match reports out-of-force codes too: any day will do


def history_filter(catalog: Catalog, *, has_encounter: bool) -> Callable[[object], bool]:
    """A test for raw history resources: False for one no rule of ``catalog`` could read."""
    code_sets = _service_code_sets(catalog)

    def wanted(resource: object) -> bool:
        if not isinstance(resource, dict):
            return True  # let the parser say what is wrong with it
        kind = resource.get("resourceType")
        if kind == "Condition":
            return True
        if kind == "Encounter":
            return not has_encounter
        if not isinstance(kind, str):
            return True  # let the parser say what is wrong with it
        sets = code_sets.get(kind)
        if not sets:
            return False  # no clause reads this type
        element = resource.get(_CODE_ELEMENT[kind])
        if element is None:
            # A MedicationRequest naming a Medication: its code is elsewhere, so keep it.
            return kind == "MedicationRequest" and "medicationReference" in resource
        codings = list(_codings(element))
        return any(code_set.match(codings, _ANY_DAY) is not None for code_set in sets)

    return wanted


def _service_code_sets(catalog: Catalog) -> dict[str, tuple[CodeSet, ...]]:
    """Per history type, every code set a service clause of any rule or variant looks for."""
    found: defaultdict[str, list[CodeSet]] = defaultdict(list)
    for clause in _all_clauses(catalog):
        if isinstance(clause, ServiceClause):
            for kind in clause.resource_types:
                if clause.codes not in found[kind]:
                    found[kind].append(clause.codes)
    return {kind: tuple(sets) for kind, sets in found.items()}


def _all_clauses(catalog: Catalog) -> Iterable[Clause]:
    for rule in catalog.rules:
        yield from rule.when
        yield from rule.unless
        for variant in rule.variants.values():
            yield from variant.when or ()
            yield from variant.unless or ()


def _codings(element: Any) -> Iterable[Coding]:
    if not isinstance(element, dict):
        return
    for coding in element.get("coding") or ():
        if isinstance(coding, dict):
            system, code = coding.get("system"), coding.get("code")
            yield Coding(
                system if isinstance(system, str) else None,
                code if isinstance(code, str) else None,
            )
