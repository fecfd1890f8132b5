"""Which history resources a catalog's rules could ever read, so the rest need not be parsed.

Turning a JSON resource into its R4B model is most of the CPU a CDS call costs (tens of
microseconds per resource, and a prefetched history holds dozens), while most of a patient's
history is orders no rule is about. The rules read history in exactly three ways:

- service clauses look for a resource of their ``resource_types`` coded in their code set;
- diagnosis clauses look for a Condition (the case's or the history's) coded in theirs;
- the setting check reads a history Encounter, only when the case has no encounter of its own.

A condition or history resource that none of these could match is left out before parsing.
Leaving it out cannot change a decision: no clause would have looked at it. Codes are compared
regardless of their dates (a retired code is still kept, so a trace can say it was seen).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from lowvalue.catalog import Catalog, Clause, ServiceClause
from lowvalue.codes import SYSTEM_NAMES, CodeSet, Coding, normalise

__all__ = ["history_filter"]

# Where each history type carries the code a service clause matches (clauses.py _code_text).
_CODE_ELEMENT = {
    "Condition": "code",
    "Procedure": "code",
    "ServiceRequest": "code",
    "Observation": "code",
    "MedicationRequest": "medicationCodeableConcept",
}


def history_filter(catalog: Catalog, *, has_encounter: bool) -> Callable[[object], bool]:
    """A test for raw conditions and history resources: False for one no rule of ``catalog``
    could read."""
    indexes = _indexes(catalog)

    def wanted(resource: object) -> bool:
        if not isinstance(resource, dict):
            return True  # let the parser say what is wrong with it
        kind = resource.get("resourceType")
        if kind == "Encounter":
            return not has_encounter
        if not isinstance(kind, str):
            return True  # let the parser say what is wrong with it
        index = indexes.get(kind)
        if index is None:
            return False  # no clause reads this type
        element = resource.get(_CODE_ELEMENT[kind])
        if element is None:
            # A MedicationRequest naming a Medication: its code is elsewhere, so keep it.
            return kind == "MedicationRequest" and "medicationReference" in resource
        return any(index.holds(coding) for coding in _codings(element))

    return wanted


@dataclass(frozen=True)
class _Index:
    """Every code of the code sets a resource type may be read for, merged per system: a
    coding is wanted when any entry of any of those sets holds it (``CodeEntry.contains``)."""

    exact: dict[str, frozenset[str]]
    spans: dict[str, tuple[tuple[str, str], ...]]

    @classmethod
    def of(cls, code_sets: Iterable[CodeSet]) -> _Index:
        exact: defaultdict[str, set[str]] = defaultdict(set)
        spans: defaultdict[str, set[tuple[str, str]]] = defaultdict(set)
        for code_set in code_sets:
            for entry in code_set.codes:
                if entry.code is not None:
                    exact[entry.system].add(entry.bounds[0])
                else:
                    spans[entry.system].add(entry.bounds)
        return cls(
            exact={system: frozenset(codes) for system, codes in exact.items()},
            spans={system: tuple(sorted(found)) for system, found in spans.items()},
        )

    def holds(self, coding: Coding) -> bool:
        system = SYSTEM_NAMES.get(coding.system or "")
        if system is None or not coding.code:
            return False
        code = normalise(system, coding.code)
        if code in self.exact.get(system, ()):
            return True
        return any(low <= code[: len(low)] <= high for low, high in self.spans.get(system, ()))


# Per catalog (by identity: a Catalog is immutable but not hashable), its index per type.
_INDEXES: dict[int, tuple[Catalog, dict[str, _Index]]] = {}


def _indexes(catalog: Catalog) -> dict[str, _Index]:
    """Per resource type, the codes a clause of any rule or variant looks for: service clauses
    per history type, diagnosis clauses for Condition."""
    known = _INDEXES.get(id(catalog))
    if known is not None and known[0] is catalog:
        return known[1]
    if len(_INDEXES) > 8:  # catalogs loaded in tests; the app has one
        _INDEXES.clear()
    built = {kind: _Index.of(sets) for kind, sets in _code_sets(catalog).items()}
    _INDEXES[id(catalog)] = (catalog, built)
    return built


def _code_sets(catalog: Catalog) -> dict[str, list[CodeSet]]:
    found: defaultdict[str, list[CodeSet]] = defaultdict(list)
    for clause in _all_clauses(catalog):
        kinds = clause.resource_types if isinstance(clause, ServiceClause) else ("Condition",)
        for kind in kinds:
            if clause.codes not in found[kind]:
                found[kind].append(clause.codes)
    return found


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
