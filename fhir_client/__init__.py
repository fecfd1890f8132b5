"""An async FHIR R4 client on httpx that returns ``fhir.resources.R4B`` models.

Knows FHIR REST, nothing about flags or OAuth beyond the bearer token it is given; never
imports ``app``, ``smart``, the simulated EHR or a web framework (``tests/test_architecture``
walks the imports). Outbound HTTP goes through the ``httpx.AsyncClient`` the caller injects.

    async with httpx.AsyncClient() as http:
        fhir = FhirClient(http, launch.fhir_base, launch.access_token)
        context = await fetch_launch_context(fhir, patient_id="123", encounter_id="e9")

Modules, one job each:

- ``client``: :class:`FhirClient` (read, search, gather) and :class:`SearchResult`;
- ``paging``: which URLs a server names may be followed, and what a searchset page holds;
- ``retry``: which failures are retried and how long to wait;
- ``outcomes``: the texts of an OperationOutcome, fit to relay;
- ``dates``: FHIR dates as time spans, to match records to an encounter by date;
- ``resources``: FHIR JSON to R4B models, with errors that name no patient data;
- ``errors``: the :class:`FhirError` hierarchy (drawn in its docstring);
- ``user``: :func:`read_user`, the signed-in user's name and email from ``fhirUser``;
- ``context``: :func:`fetch_launch_context`, everything a launch's order list needs.
"""

from fhir_client.client import FHIR_JSON, FhirClient, SearchResult
from fhir_client.context import LaunchContextData, fetch_launch_context
from fhir_client.errors import (
    FhirConnectionError,
    FhirError,
    FhirForbiddenError,
    FhirHttpError,
    FhirInvalidRequestError,
    FhirInvalidResponseError,
    FhirNotFoundError,
    FhirRateLimitedError,
    FhirResponseTooLargeError,
    FhirTimeoutError,
    FhirTransportError,
    FhirUnauthorizedError,
    FhirUnsafeLinkError,
)
from fhir_client.outcomes import issue_text, issue_texts
from fhir_client.user import FhirUser, read_user

__all__ = [
    "FHIR_JSON",
    "FhirClient",
    "FhirConnectionError",
    "FhirError",
    "FhirForbiddenError",
    "FhirHttpError",
    "FhirInvalidRequestError",
    "FhirInvalidResponseError",
    "FhirNotFoundError",
    "FhirRateLimitedError",
    "FhirResponseTooLargeError",
    "FhirTimeoutError",
    "FhirTransportError",
    "FhirUnauthorizedError",
    "FhirUnsafeLinkError",
    "FhirUser",
    "LaunchContextData",
    "SearchResult",
    "fetch_launch_context",
    "issue_text",
    "issue_texts",
    "read_user",
]
