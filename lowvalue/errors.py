"""Everything ``lowvalue`` raises, so a caller can tell bad data from bad input.

LowValueError                 anything below; catch it to handle "the rules could not run"
├── CatalogError              the rule catalog is wrong: names the file, the rule and the field
├── CaseError                 the case cannot be evaluated: not FHIR R4, or no evaluation date
├── VariantError              a variant choice names an unknown rule or variant
└── IncompleteHistory         raised by a HistorySource: a search answered only in part

A rule that cannot decide is not an error: it is a decision (``Outcome.COULD_NOT_DECIDE``)
that says what history it needs. Errors are for inputs no rule can be run on.

Messages never carry patient data: a case error names the element and the rule it broke,
not the value, because these messages end up in logs and on a terminal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fhir.resources.R4B.resource import Resource

__all__ = ["CaseError", "CatalogError", "IncompleteHistory", "LowValueError", "VariantError"]


class LowValueError(Exception):
    """Base class: the low-value rules could not be run."""


class CatalogError(LowValueError):
    """A rule or code-set file is not valid catalog data.

    ``file`` is the data file, ``rule`` the rule (or code set) id as far as it could be read,
    ``field`` the dotted path of the offending field, so whoever edits the data can find it.
    """

    def __init__(self, message: str, *, file: str, rule: str | None, field: str | None) -> None:
        self.file = file
        self.rule = rule
        self.field = field
        where = file + (f", rule {rule}" if rule else "") + (f", field {field}" if field else "")
        super().__init__(f"{where}: {message}")


class CaseError(LowValueError):
    """The case is not something a rule can read (not R4, not a CDS Hooks request, no date)."""


class VariantError(LowValueError):
    """A variant choice names a rule the catalog lacks, or a variant the rule does not offer."""


class IncompleteHistory(LowValueError):
    """What a :class:`HistorySource` raises for a search it could answer only in part (a page
    limit reached, a server that stopped paging): the resources it did get still count as
    seen, but their absence proves nothing, so the rules that rest on it stay undecided."""

    def __init__(self, resources: list[Resource], why: str = "the search was cut short") -> None:
        self.resources = resources
        super().__init__(why)
