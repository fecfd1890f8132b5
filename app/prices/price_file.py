"""Reading an organization's price list from CSV, checking every line before anything is kept.

The file has a header naming six columns, in any order (case, spaces and underscores do not
matter): ``code system, code, price, currency, source, effective date``. For example::

    code system,code,price,currency,source,effective date
    CPT,72148,412.00,USD,Riverside chargemaster 2026,2026-01-01
    http://loinc.org,2345-7,3.10,USD,Riverside lab contract,2025-07-01

A file is taken whole or not at all: every bad line is reported (line number, column, why),
and one bad line keeps the good ones out too, so the list never ends up half-loaded.

Currency: the registry keeps money in one currency, US dollars, and adds estimates across
flags on every Insights total. A price in another currency is refused with a message rather
than stored: adding euros to dollars needs an exchange rate of a date, which a price list
does not carry, and a silently mixed total would be wrong without anyone noticing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from app.flags.costs import CPT
from app.prices.errors import PriceListInvalid
from app.prices.models import CODE_MAX_LENGTH, CODE_SYSTEM_MAX_LENGTH, SOURCE_MAX_LENGTH

COLUMNS: tuple[str, ...] = ("code_system", "code", "price", "currency", "source", "effective_date")
REGISTRY_CURRENCY = "USD"
MAX_PRICE = Decimal("10000000.00")  # as a flag's estimated cost allows
MAX_PROBLEMS_LISTED = 100
# Short names a price list may use instead of a code system's URI (as FHIR orders carry it).
CODE_SYSTEMS: dict[str, str] = {
    "CPT": CPT,
    "HCPCS": "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "LOINC": "http://loinc.org",
    "RXNORM": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "SNOMED CT": "http://snomed.info/sct",
    "SNOMED": "http://snomed.info/sct",
}
_SHORT_NAMES = "CPT, HCPCS, LOINC, RxNorm, SNOMED CT"
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_URI = re.compile(r"(https?://|urn:)\S+")


@dataclass(frozen=True)
class PriceLine:
    """One checked line of the file."""

    line: int
    code_system: str
    code: str
    cents: int
    source: str
    effective_date: date


@dataclass(frozen=True)
class LineProblem:
    line: int
    column: str | None
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "detail": self.detail}


def _column_name(header: str) -> str:
    return re.sub(r"[\s_\-]+", "_", header.strip().lower())


def _header_problems(names: list[str]) -> list[LineProblem]:
    problems = [
        LineProblem(1, name or None, f"unknown column {name!r}; the columns are {_listed()}")
        for name in names
        if name not in COLUMNS
    ]
    problems += [
        LineProblem(1, name, f"duplicate column {name!r}")
        for position, name in enumerate(names)
        if name in COLUMNS and name in names[:position]
    ]
    problems += [
        LineProblem(1, name, f"the header has no {name!r} column")
        for name in COLUMNS
        if name not in names
    ]
    return problems


def _listed() -> str:
    return ", ".join(name.replace("_", " ") for name in COLUMNS)


def _code_system(text: str) -> str:
    if text.upper() in CODE_SYSTEMS:
        return CODE_SYSTEMS[text.upper()]
    if _URI.fullmatch(text) and len(text) <= CODE_SYSTEM_MAX_LENGTH:
        return text
    raise ValueError(
        f"unknown code system {text!r}: give the system's URI as orders carry it "
        f"(e.g. {CPT}) or one of {_SHORT_NAMES}"
    )


def _code(text: str) -> str:
    if len(text) > CODE_MAX_LENGTH:
        raise ValueError(f"longer than {CODE_MAX_LENGTH} characters")
    return text


def _cents(text: str) -> int:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number; write prices like 412.00") from None
    if not amount.is_finite():
        raise ValueError(f"{text!r} is not a number; write prices like 412.00")
    if amount < 0:
        raise ValueError(f"negative price {text}; a price is 0 or more")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{text} has more than two decimal places (whole cents only)")
    if amount > MAX_PRICE:
        raise ValueError(f"{text} is over the largest price accepted, {MAX_PRICE:,}")
    return int(amount * 100)


def _currency(text: str) -> str:
    code = text.upper()
    if not _CURRENCY_CODE.fullmatch(code):
        raise ValueError(f"unknown currency {text!r}: give the ISO 4217 code, {REGISTRY_CURRENCY}")
    if code != REGISTRY_CURRENCY:
        raise ValueError(
            f"currency {code} is not accepted: the registry keeps prices in "
            f"{REGISTRY_CURRENCY} and adds them up across flags, and there is no exchange "
            f"rate to convert with; convert the list to {REGISTRY_CURRENCY} before loading it"
        )
    return code


def _source(text: str) -> str:
    if len(text) > SOURCE_MAX_LENGTH:
        raise ValueError(f"longer than {SOURCE_MAX_LENGTH} characters")
    return text


def _day(text: str) -> date:
    if not _ISO_DAY.fullmatch(text):
        raise ValueError(f"{text!r} is not a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a day of the calendar") from None


_CHECKS = {
    "code_system": _code_system,
    "code": _code,
    "price": _cents,
    "currency": _currency,
    "source": _source,
    "effective_date": _day,
}


def _line(number: int, names: list[str], cells: list[str]) -> PriceLine | list[LineProblem]:
    """A line as a price, or everything wrong with it (each column checked)."""
    if len(cells) != len(names):
        return [
            LineProblem(
                number, None, f"has {len(cells)} cells; the header names {len(names)} columns"
            )
        ]
    values: dict[str, Any] = {}
    problems: list[LineProblem] = []
    for name, cell in zip(names, cells, strict=True):
        text = cell.strip()
        if not text:
            problems.append(LineProblem(number, name, "empty; every column needs a value"))
            continue
        try:
            values[name] = _CHECKS[name](text)
        except ValueError as exc:
            problems.append(LineProblem(number, name, str(exc)))
    if problems:
        return problems
    return PriceLine(
        line=number,
        code_system=values["code_system"],
        code=values["code"],
        cents=values["price"],
        source=values["source"],
        effective_date=values["effective_date"],
    )


def _repeats(prices: list[PriceLine]) -> list[LineProblem]:
    """Two prices for one code on one day: which one holds would be a guess."""
    first_seen: dict[tuple[str, str, date], int] = {}
    problems = []
    for price in prices:
        key = (price.code_system, price.code, price.effective_date)
        if key in first_seen:
            problems.append(
                LineProblem(
                    price.line,
                    "effective_date",
                    f"duplicate code and effective date: line {first_seen[key]} already prices "
                    f"{price.code} from {price.effective_date}",
                )
            )
        else:
            first_seen[key] = price.line
    return problems


def read_price_file(text: str) -> list[PriceLine]:
    """Every price in the file, or :class:`PriceListInvalid` listing every bad line."""
    if "\x00" in text:
        raise _invalid([LineProblem(1, None, "contains a NUL character: is this a CSV file?")])
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise _invalid(
                [
                    LineProblem(
                        1, None, f"the file is empty; its first line names the columns: {_listed()}"
                    )
                ]
            )
        names = [_column_name(cell) for cell in header]
        problems = _header_problems(names)
        if problems:
            raise _invalid(problems)
        prices: list[PriceLine] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines (a trailing newline, a spacer row) say nothing
            checked = _line(reader.line_num, names, cells)
            if isinstance(checked, PriceLine):
                prices.append(checked)
            else:
                problems += checked
    except csv.Error as exc:
        raise _invalid([LineProblem(reader.line_num, None, f"not readable as CSV: {exc}")]) from exc
    problems += _repeats(prices)
    if problems:
        raise _invalid(sorted(problems, key=lambda problem: problem.line))
    if not prices:
        raise _invalid([LineProblem(1, None, "the file has a header but no prices")])
    return prices


def _invalid(problems: list[LineProblem]) -> PriceListInvalid:
    lines = sorted({problem.line for problem in problems})
    shown = problems[:MAX_PROBLEMS_LISTED]
    first = shown[0]
    where = f"line {first.line}" + (f", {first.column.replace('_', ' ')}" if first.column else "")
    more = (
        f" ({len(problems)} problems on {len(lines)} lines; see 'problems')"
        if len(problems) > 1
        else ""
    )
    return PriceListInvalid(
        f"Nothing was loaded: the price list has problems. First: {where}: {first.detail}.{more}",
        problems=[problem.as_dict() for problem in shown],
        problem_count=len(problems),
    )
