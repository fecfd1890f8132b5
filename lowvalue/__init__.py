"""Low-value care rules: a catalog of published measures, as data, and one evaluator.

FHIR R4 resources and measures in, decisions with traces out. Knows nothing of flags, HTTP
or the database; never imports ``app``, ``smart``, ``fhir_client``, ``ehr_sim``, FastAPI,
SQLAlchemy or SQLModel. The CDS Hooks service that serves it lives in ``app/``.

Usage::

    case = case_from_cds_request(request_body)          # or case_from_resources(...)
    decisions = evaluate(case, variants={"psa-screening-older-men": "sensitive"})
    for decision in decisions:
        if decision.outcome is Outcome.LOW_VALUE:
            print(render_text(decision))                 # rule, matched clause, exemptions

    # Rules that need history (a prior DXA, a booked surgery) answer COULD_NOT_DECIDE and
    # list FHIR searches in ``decision.needs``; answer them with your own FHIR client:
    class Source:                                        # a HistorySource
        async def search(self, request: HistoryRequest) -> list[Resource]:
            return await fhir.search_all(request.resource_type, dict(request.params))

    decisions, case = await evaluate_with_history(case, Source())

Every window and age is counted from the order's ``authoredOn`` (else the encounter's start),
never from today, so a historical order is judged as it would have been then.
"""

from lowvalue.case import Case, Order, case_from_cds_request, case_from_resources, evaluation_date
from lowvalue.catalog import Catalog, Rule, VariantName, default_catalog, load_catalog
from lowvalue.codes import SYSTEMS, Alternative, CodeEntry, CodeSet
from lowvalue.errors import (
    CaseError,
    CatalogError,
    IncompleteHistory,
    LowValueError,
    VariantError,
)
from lowvalue.evaluator import evaluate, evaluate_rule, needed, settle
from lowvalue.fetching import HistorySource, evaluate_with_history
from lowvalue.history import HistoryRequest
from lowvalue.trace import Decision, Outcome, Step, StepResult, render_text

__all__ = [
    "SYSTEMS",
    "Alternative",
    "Case",
    "CaseError",
    "Catalog",
    "CatalogError",
    "CodeEntry",
    "CodeSet",
    "Decision",
    "HistoryRequest",
    "HistorySource",
    "IncompleteHistory",
    "LowValueError",
    "Order",
    "Outcome",
    "Rule",
    "Step",
    "StepResult",
    "VariantError",
    "VariantName",
    "case_from_cds_request",
    "case_from_resources",
    "default_catalog",
    "evaluate",
    "evaluate_rule",
    "evaluate_with_history",
    "evaluation_date",
    "load_catalog",
    "needed",
    "render_text",
    "settle",
]
