"""Versioned code sets: single codes, ranges and prefixes, each in force between two dates.

Published low-value measures name codes that later changed (chest X-ray 71010-71035 became
71045-71048 in 2018; low back pain M54.5 became M54.50/.51/.59 in October 2021). A code set
keeps both, each with the dates it was in force, and a coding is read against the date of
the resource that carries it: a 2016 order for 71020 still matches, a 2024 one does not (the
code no longer existed, so the order is miscoded and the trace says so).

Codes are compared after normalising: trimmed, upper case, and for ICD-10-CM without the dot
(EHRs send both ``M54.50`` and ``M5450``). A range ``lo-hi`` holds every code whose first
``len(lo)`` characters sort between ``lo`` and ``hi``: ``72141-72158`` is fifteen CPT codes,
``C00-C96`` every ICD-10-CM code in those categories. A prefix is a one-category range.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "SYSTEMS",
    "SYSTEM_NAMES",
    "Alternative",
    "CodeEntry",
    "CodeMatch",
    "CodeSet",
    "Coding",
    "SystemName",
]

SystemName = Literal["cpt", "hcpcs", "loinc", "icd10cm", "rxnorm", "atc"]

# The catalog names systems by these short names; FHIR codings carry the URIs.
SYSTEMS: dict[str, str] = {
    "cpt": "http://www.ama-assn.org/go/cpt",
    "hcpcs": "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "loinc": "http://loinc.org",
    "icd10cm": "http://hl7.org/fhir/sid/icd-10-cm",
    "rxnorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "atc": "http://www.whocc.no/atc",
}
_SHOWN: dict[str, str] = {
    "cpt": "CPT",
    "hcpcs": "HCPCS",
    "loinc": "LOINC",
    "icd10cm": "ICD-10-CM",
    "rxnorm": "RxNorm",
    "atc": "ATC",
}


# The short name of a coding system URI.
SYSTEM_NAMES = {uri: name for name, uri in SYSTEMS.items()}


def normalise(system: str, code: str) -> str:
    """``code`` as the catalog compares it: trimmed, upper case, ICD-10-CM without its dot."""
    code = code.strip().upper()
    return code.replace(".", "") if system == "icd10cm" else code


@dataclass(frozen=True, slots=True)
class Coding:
    """One system + code pair from a FHIR CodeableConcept."""

    system: str | None
    code: str | None


class Alternative(BaseModel):
    """What to order instead of a code, e.g. the generic clinical drug (RxNorm SCD) identical
    to a branded one (SBD): same ingredient, strength and dose form."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    system: SystemName
    code: str = Field(min_length=1)
    label: str = Field(min_length=1)

    def describe(self) -> str:
        """E.g. ``RxNorm 197321 (alprazolam 1 MG Oral Tablet)``."""
        return f"{_SHOWN[self.system]} {self.code} ({self.label})"


class CodeEntry(BaseModel):
    """One code, range or prefix of a code set, with the dates it was in force, and for a
    single code optionally the ``alternative`` to suggest instead."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    system: SystemName
    code: str | None = None
    range: str | None = None
    prefix: str | None = None
    label: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    # False for codes the reference file marks "(verify)": a decision resting on one says so.
    verified: bool = True
    note: str | None = None
    alternative: Alternative | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        given = [kind for kind in ("code", "range", "prefix") if getattr(self, kind)]
        if len(given) != 1:
            raise ValueError("give exactly one of code, range or prefix")
        if self.alternative is not None and self.code is None:
            raise ValueError("an alternative belongs to a single code, not a range or prefix")
        if self.range is not None:
            low, high = self.bounds
            if len(low) != len(high) or low > high:
                raise ValueError(f"range {self.range!r} must be 'LOW-HIGH', same length, LOW<=HIGH")
        if self.valid_from and self.valid_until and self.valid_from > self.valid_until:
            raise ValueError("valid_from is after valid_until")
        return self

    @cached_property
    def bounds(self) -> tuple[str, str]:
        """The normalised low and high ends (a code or a prefix is its own range); computed
        once per entry (the entries are frozen), as every match compares against them."""
        if self.range is not None:
            low, _, high = self.range.partition("-")
            return normalise(self.system, low), normalise(self.system, high)
        value = normalise(self.system, self.code or self.prefix or "")
        return value, value

    def contains(self, code: str) -> bool:
        """Whether ``code`` (in this entry's system) is this code, in this range or prefix."""
        return self.contains_normalised(normalise(self.system, code))

    def contains_normalised(self, code: str) -> bool:
        """``contains`` for a code already normalised for this entry's system."""
        low, high = self.bounds
        if self.code is not None:
            return code == low
        return low <= code[: len(low)] <= high

    def in_force(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_until is None or on <= self.valid_until
        )

    def describe(self) -> str:
        """E.g. ``CPT 72141-72158`` or ``ICD-10-CM M54.5 (until 2021-09-30)``."""
        shown = self.code or self.range or f"{self.prefix}*"
        text = f"{_SHOWN[self.system]} {shown}"
        if self.valid_from:
            text += f" (from {self.valid_from})"
        if self.valid_until:
            text += f" (until {self.valid_until})"
        return text + ("" if self.verified else " [unverified]")


@dataclass(frozen=True, slots=True)
class CodeMatch:
    """A coding that fell in a code set entry; ``in_force`` False when the date was outside."""

    code: str
    entry: CodeEntry
    on: date

    @property
    def in_force(self) -> bool:
        return self.entry.in_force(self.on)

    def describe(self) -> str:
        shown = f"{_SHOWN[self.entry.system]} {self.code}"
        if self.entry.code is None:
            shown += f" (in {self.entry.describe()})"
        elif not self.entry.verified:
            shown += " [unverified]"
        if self.entry.alternative is not None:
            shown += f" (instead: {self.entry.alternative.describe()})"
        if not self.in_force:
            dates = f"{self.entry.valid_from or '...'} to {self.entry.valid_until or '...'}"
            shown += f", not in force on {self.on} (valid {dates})"
        return shown


class CodeSet(BaseModel):
    """A named group of codes across systems, e.g. every lumbar spine imaging code."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(min_length=1)
    codes: tuple[CodeEntry, ...] = Field(min_length=1)

    @cached_property
    def by_system(self) -> dict[str, tuple[CodeEntry, ...]]:
        """The entries per system, in catalog order (computed once: the set is frozen)."""
        grouped: dict[str, list[CodeEntry]] = {}
        for entry in self.codes:
            grouped.setdefault(entry.system, []).append(entry)
        return {system: tuple(entries) for system, entries in grouped.items()}

    def match(self, codings: Iterable[Coding], on: date) -> CodeMatch | None:
        """The first coding in force on ``on``; failing that, one that was out of force (so a
        trace can say a retired code was seen); None when nothing matches at all."""
        stale: CodeMatch | None = None
        for coding in codings:
            system = SYSTEM_NAMES.get(coding.system or "")
            if system is None or not coding.code:
                continue
            entries = self.by_system.get(system)
            if not entries:
                continue
            code = normalise(system, coding.code)
            for entry in entries:
                if entry.contains_normalised(code):
                    found = CodeMatch(coding.code.strip(), entry, on)
                    if found.in_force:
                        return found
                    stale = stale or found
        return stale
