"""The rule catalog: low-value measures as data, loaded and checked before any rule runs.

Why JSON files and pydantic: a measure is published data (codes, windows, exemptions) that a
clinician reviewer should be able to read and change without reading Python, and that a new
code-set release changes without a code release. JSON needs no new dependency and pydantic is
already ours, so a malformed rule fails at load with its file, rule id and field named, not
halfway through evaluating an order.

Layout: ``data/codesets.json`` holds code sets shared by several rules, by name; each rule is
one ``data/rules/<id>.json``. Wherever a rule takes ``codes`` it takes either a shared set's
name or a set written in place. ``docs/rules.md`` describes every field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lowvalue.codes import CodeSet
from lowvalue.errors import CatalogError, VariantError

__all__ = [
    "Catalog",
    "Clause",
    "DiagnosisClause",
    "OrderSpec",
    "PatientLimits",
    "Rule",
    "RuleParts",
    "ServiceClause",
    "Source",
    "VariantName",
    "Window",
    "default_catalog",
    "load_catalog",
]

DATA = Path(__file__).resolve().parent / "data"
VariantName = Literal["sensitive", "specific"]
HistoryType = Literal["Procedure", "ServiceRequest", "Observation", "MedicationRequest"]
_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Window(_Strict):
    """Days relative to the evaluation date, both ends included: ``-90..0`` is a 90-day
    look-back, ``0..30`` a 30-day look-ahead."""

    from_days: int
    to_days: int

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.from_days > self.to_days:
            raise ValueError("from_days is after to_days")
        return self


class Source(_Strict):
    title: str = Field(min_length=1)
    url: str = Field(pattern=r"^https://\S+$")


class DiagnosisClause(_Strict):
    """The patient has (had) a condition coded in ``codes``: on this encounter or the problem
    list, within ``window`` when given (ever otherwise). ``first_within_days``: the earliest
    such diagnosis is at most that many days old, which needs the full condition history."""

    kind: Literal["diagnosis"]
    id: str = Field(pattern=_ID)
    label: str = Field(min_length=1)
    codes: CodeSet
    window: Window | None = None
    first_within_days: int | None = Field(default=None, ge=0)


class ServiceClause(_Strict):
    """A service in the patient's history (a prior test, a scheduled surgery, a recent
    prescription) coded in ``codes`` and dated within ``window``. Needs history: absence is
    only believed when the case holds a search that covers the window."""

    kind: Literal["service"]
    id: str = Field(pattern=_ID)
    label: str = Field(min_length=1)
    codes: CodeSet
    resource_types: tuple[HistoryType, ...] = Field(min_length=1)
    window: Window


Clause = Annotated[DiagnosisClause | ServiceClause, Field(discriminator="kind")]


class PatientLimits(_Strict):
    """Age in whole years on the evaluation date, both ends included; sex as Patient.gender."""

    sex: Literal["male", "female"] | None = None
    min_age: int | None = Field(default=None, ge=0)
    max_age: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError("min_age is above max_age")
        return self


class OrderSpec(_Strict):
    resource_types: tuple[Literal["ServiceRequest", "MedicationRequest"], ...] = Field(min_length=1)
    codes: CodeSet


class VariantSpec(_Strict):
    """What a variant changes; anything left out is the rule's own."""

    label: str = Field(min_length=1)
    patient: PatientLimits | None = None
    when: tuple[Clause, ...] | None = None
    unless: tuple[Clause, ...] | None = None


class RuleParts(_Strict):
    """A rule's checks under one variant: what the evaluator runs."""

    variant: VariantName | None
    patient: PatientLimits
    when: tuple[Clause, ...]
    unless: tuple[Clause, ...]


class Rule(_Strict):
    id: str = Field(pattern=_ID)
    version: str = Field(min_length=1)
    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    sources: tuple[Source, ...] = Field(min_length=1)
    order: OrderSpec
    patient: PatientLimits = PatientLimits()
    excluded_settings: tuple[str, ...] = ()
    when: tuple[Clause, ...] = ()
    unless: tuple[Clause, ...] = ()
    variants: dict[VariantName, VariantSpec] = Field(default_factory=dict)
    default_variant: VariantName | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if bool(self.variants) != (self.default_variant is not None):
            raise ValueError("default_variant is required with variants, and only then")
        if self.default_variant is not None and self.default_variant not in self.variants:
            raise ValueError(f"default_variant {self.default_variant!r} is not in variants")
        for parts in [self.parts(None), *(self.parts(name) for name in self.variants)]:
            ids = [clause.id for clause in (*parts.when, *parts.unless)]
            if len(ids) != len(set(ids)):
                raise ValueError(f"clause ids repeat: {sorted(ids)}")
        return self

    def parts(self, variant: VariantName | None) -> RuleParts:
        """The checks under ``variant`` (the rule's default when None)."""
        chosen = variant or self.default_variant
        if chosen is None:
            return RuleParts(variant=None, patient=self.patient, when=self.when, unless=self.unless)
        if chosen not in self.variants:
            raise VariantError(f"rule {self.id} has no {chosen!r} variant")
        spec = self.variants[chosen]
        return RuleParts(
            variant=chosen,
            patient=spec.patient if spec.patient is not None else self.patient,
            when=spec.when if spec.when is not None else self.when,
            unless=spec.unless if spec.unless is not None else self.unless,
        )


class Catalog(_Strict):
    rules: tuple[Rule, ...]

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise VariantError(f"the catalog has no rule {rule_id!r}")


@dataclass(frozen=True)
class _Where:
    file: str
    rule: str | None


def _resolve_names(value: Any, shared: dict[str, Any], path: str, where: _Where) -> Any:
    """Replace every ``"codes": "<name>"`` with the shared set of that name."""
    if isinstance(value, list):
        return [_resolve_names(item, shared, f"{path}.{i}", where) for i, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    resolved = {}
    for key, item in value.items():
        field = f"{path}.{key}".lstrip(".")
        if key == "codes" and isinstance(item, str):
            if item not in shared:
                raise CatalogError(
                    f"no shared code set named {item!r}",
                    file=where.file,
                    rule=where.rule,
                    field=field,
                )
            resolved[key] = shared[item]
        else:
            resolved[key] = _resolve_names(item, shared, field, where)
    return resolved


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError(
            f"not readable JSON ({exc})", file=path.name, rule=None, field=None
        ) from None


def _invalid(exc: ValidationError, file: str, rule: str | None) -> CatalogError:
    first = exc.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    more = exc.error_count() - 1
    message = str(first["msg"]).removeprefix("Value error, ")
    return CatalogError(
        message + (f" (and {more} more)" if more else ""), file=file, rule=rule, field=field
    )


def _rule_files(directory: Path) -> Iterator[Path]:
    files = sorted((directory / "rules").glob("*.json"))
    if not files:
        raise CatalogError("no rule files", file=str(directory / "rules"), rule=None, field=None)
    yield from files


def load_catalog(directory: Path = DATA) -> Catalog:
    """Read and check ``codesets.json`` and every ``rules/*.json`` under ``directory``.

    Raises :class:`CatalogError` on the first bad file, naming the file, rule and field.
    """
    shared_path = directory / "codesets.json"
    shared = _read_json(shared_path) if shared_path.exists() else {}
    if not isinstance(shared, dict):
        raise CatalogError(
            "must be an object of named code sets", file=shared_path.name, rule=None, field=None
        )
    for name, raw in shared.items():
        try:
            CodeSet.model_validate(raw)
        except ValidationError as exc:
            raise _invalid(exc, shared_path.name, name) from None
    rules: list[Rule] = []
    for path in _rule_files(directory):
        raw = _read_json(path)
        rule_id = raw.get("id") if isinstance(raw, dict) else None
        where = _Where(path.name, str(rule_id) if rule_id else None)
        try:
            rule = Rule.model_validate(_resolve_names(raw, shared, "", where))
        except ValidationError as exc:
            raise _invalid(exc, path.name, where.rule) from None
        if path.stem != rule.id:
            raise CatalogError(
                "the file name must be the rule id", file=where.file, rule=where.rule, field="id"
            )
        if any(known.id == rule.id for known in rules):
            raise CatalogError(
                "a rule with this id is already loaded",
                file=where.file,
                rule=where.rule,
                field="id",
            )
        rules.append(rule)
    return Catalog(rules=tuple(rules))


@cache
def default_catalog() -> Catalog:
    """The catalog shipped with the package, read once per process."""
    return load_catalog()
