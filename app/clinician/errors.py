"""Errors of the clinician API, read by a clinician in the EHR frame."""

from __future__ import annotations

import fhir_client
from app.errors import AppError, UnprocessableContent


class EhrUnavailable(AppError):
    status = 502
    slug = "ehr-unavailable"
    title = "The EHR did not answer"


class OrderNotInLaunch(UnprocessableContent):
    slug = "order-not-in-launch"
    title = "That order is not part of this launch"


def ehr_unavailable(exc: fhir_client.FhirError) -> EhrUnavailable:
    """Say what went wrong with the EHR in words a clinician can act on."""
    if isinstance(exc, fhir_client.FhirUnauthorizedError):
        return EhrUnavailable(
            "The EHR no longer accepts ValueLoop's access. Open ValueLoop again from the EHR."
        )
    if isinstance(exc, fhir_client.FhirTimeoutError):
        what = "took too long to answer"
    elif isinstance(exc, fhir_client.FhirConnectionError):
        what = "could not be reached"
    elif isinstance(
        exc, fhir_client.FhirInvalidResponseError | fhir_client.FhirResponseTooLargeError
    ):
        what = "sent an answer ValueLoop could not read"
    else:
        what = "answered with an error"
    return EhrUnavailable(f"The EHR {what}. Nothing was saved; try again in a moment.")
