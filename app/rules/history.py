"""The history the rules ask for, read from the EHR's FHIR server (``lowvalue.HistorySource``).

Shared by the CDS Hooks service and the in-EHR page, so both judge an order on the same
searches.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

from fhir.resources.R4B.resource import Resource

import lowvalue
from fhir_client import FhirClient, FhirHttpError

HistoryFailureHandler = Callable[[lowvalue.HistoryRequest, Exception], None]


class FhirHistory:
    """A ``lowvalue.HistorySource`` on the EHR's FHIR server. A search the client stopped
    paging (its page limit) is incomplete: what it found counts, what it did not find proves
    nothing (``lowvalue.IncompleteHistory``)."""

    def __init__(self, fhir: FhirClient) -> None:
        self._fhir = fhir

    async def search(self, request: lowvalue.HistoryRequest) -> list[Resource]:
        params: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in request.params:
            params[name].append(value)
        found = await self._fhir.search(request.resource_type, params)
        if found.truncated:
            raise lowvalue.IncompleteHistory(
                list(found.resources), "more pages than the client reads"
            )
        return list(found.resources)


def history_failure_logger(logger: logging.Logger, where: str) -> HistoryFailureHandler:
    """An ``on_failure`` for ``lowvalue.evaluate_with_history`` that logs which kind of search
    failed and how (the error's type and HTTP status), never its text or parameters: they may
    name the patient, and a token must never reach a log."""

    def report(request: lowvalue.HistoryRequest, exc: Exception) -> None:
        status = exc.status if isinstance(exc, FhirHttpError) else None
        logger.warning(
            "%s: a %s history search failed (%s%s); the rules that need it stay undecided.",
            where,
            request.resource_type,
            type(exc).__name__,
            f", HTTP {status}" if status else "",
        )

    return report
