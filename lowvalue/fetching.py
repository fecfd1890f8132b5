"""Evaluating with the history the rules ask for: the caller answers each search with its own
FHIR client (a :class:`HistorySource`); this package does no HTTP itself."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Protocol

from fhir.resources.R4B.resource import Resource

from lowvalue.case import Case
from lowvalue.catalog import Catalog, VariantName
from lowvalue.evaluator import evaluate, needed
from lowvalue.history import HistoryRequest
from lowvalue.trace import Decision

__all__ = ["HistorySource", "evaluate_with_history"]


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
    A search that fails raises the source's own error (the others are cancelled): a rule is
    never judged on history that could not be read.
    Stops after ``max_rounds`` searches rounds; a rule still undecided then stays undecided.
    """
    decisions = evaluate(case, catalog=catalog, variants=variants)
    for _ in range(max_rounds):
        requests = [request for request in needed(decisions) if not case.covers(request)]
        if not requests:
            break
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(source.search(request)) for request in requests]
        except ExceptionGroup as failed:
            # The source's own error, not a group: its caller catches it as from one search.
            raise _first(failed) from None
        for request, task in zip(requests, tasks, strict=True):
            case = case.with_history(request, task.result())
        decisions = evaluate(case, catalog=catalog, variants=variants)
    return decisions, case


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    found = group.exceptions[0]
    return _first(found) if isinstance(found, BaseExceptionGroup) else found
