"""Evaluating with the history the rules ask for: the caller answers each search with its own
FHIR client (a :class:`HistorySource`); this package does no HTTP itself."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Protocol

from fhir.resources.R4B.resource import Resource

from lowvalue.case import Case
from lowvalue.catalog import Catalog, VariantName
from lowvalue.errors import IncompleteHistory
from lowvalue.evaluator import evaluate, needed, settle
from lowvalue.history import HistoryRequest
from lowvalue.trace import Decision

__all__ = ["HistorySource", "evaluate_with_history"]


class HistorySource(Protocol):
    """Answers a history search, e.g. with the app's FHIR client following every page; raises
    :class:`IncompleteHistory` with what it got when it could not read every page."""

    async def search(self, request: HistoryRequest) -> list[Resource]: ...


async def evaluate_with_history(
    case: Case,
    source: HistorySource,
    *,
    catalog: Catalog | None = None,
    variants: Mapping[str, VariantName] | None = None,
    max_rounds: int = 3,
    on_failure: Callable[[HistoryRequest, Exception], None] | None = None,
) -> tuple[list[Decision], Case]:
    """Evaluate, fetch the history the undecided rules ask for (concurrently), evaluate again.

    Returns the decisions and the case with the history it gained, so a caller can keep it.
    A rule is never judged on history that could not be read:

    - a search answered in part (:class:`IncompleteHistory`) adds what it found, but does
      not count as a complete answer, so an absence in it decides nothing;
    - a search that fails: without ``on_failure``, its error is raised (the source's own, not
      an ExceptionGroup; the other searches are cancelled). With ``on_failure``, it is
      reported there, the rules that wanted it stay undecided, and every other search and
      rule still counts.

    Stops after ``max_rounds`` search rounds, and never asks the same search twice; a rule
    still undecided then stays undecided.
    """
    decisions = evaluate(case, catalog=catalog, variants=variants)
    asked: set[HistoryRequest] = set()
    for _ in range(max_rounds):
        requests = [
            request
            for request in needed(decisions)
            if not case.covers(request) and request not in asked
        ]
        if not requests:
            break
        asked.update(requests)
        for request, answer in zip(
            requests, await _answers(source, requests, tolerant=on_failure is not None), strict=True
        ):
            if isinstance(answer, IncompleteHistory):
                case = case.with_resources(answer.resources)
            elif isinstance(answer, Exception):
                assert on_failure is not None  # _answers raised otherwise
                on_failure(request, answer)
            else:
                case = case.with_history(request, answer)
        decisions = settle(decisions, case, catalog=catalog, variants=variants)
    return decisions, case


async def _answers(
    source: HistorySource, requests: list[HistoryRequest], *, tolerant: bool
) -> list[list[Resource] | Exception]:
    """Each search's resources, its IncompleteHistory, or (when ``tolerant``) its error."""

    async def one(request: HistoryRequest) -> list[Resource] | Exception:
        try:
            return await source.search(request)
        except IncompleteHistory as partial:
            return partial
        except Exception as exc:
            if tolerant:
                return exc
            raise

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(request)) for request in requests]
    except ExceptionGroup as failed:
        # The source's own error, not a group: its caller catches it as from one search.
        raise _first(failed) from None
    return [task.result() for task in tasks]


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    found = group.exceptions[0]
    return _first(found) if isinstance(found, BaseExceptionGroup) else found
