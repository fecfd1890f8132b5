"""The history the rules ask for, read from the EHR's FHIR server (``lowvalue.HistorySource``).

Shared by the CDS Hooks service and the in-EHR page, so both judge an order on the same
searches.
"""

from __future__ import annotations

from collections import defaultdict

from fhir.resources.R4B.resource import Resource

import lowvalue
from fhir_client import FhirClient


class FhirHistory:
    """A ``lowvalue.HistorySource`` on the EHR's FHIR server."""

    def __init__(self, fhir: FhirClient) -> None:
        self._fhir = fhir

    async def search(self, request: lowvalue.HistoryRequest) -> list[Resource]:
        params: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in request.params:
            params[name].append(value)
        found = await self._fhir.search(request.resource_type, params)
        return list(found.resources)
