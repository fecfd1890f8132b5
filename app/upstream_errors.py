"""Every mapping from a library error (``smart``, ``fhir_client``) to the problem a person reads.

The libraries know nothing of HTTP responses or of who reads them; what a failure means depends
on the surface it happened on, so there is one mapping per surface, by exception type:

- the launch page in the EHR frame (:func:`launch_failed`), a clinician reads it;
- the staff sign-in page (:func:`sign_in_failed`);
- the clinician API (:func:`session_not_renewed`, :func:`order_not_readable`, and the
  exception handler that turns any :class:`fhir_client.FhirError` into ``ehr-unavailable``,
  so the API code never catches a FHIR error only to convert it).

Callers raise what these return, ``from`` the library error, so logs keep the cause.
"""

from __future__ import annotations

from enum import Enum, auto

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

import fhir_client
import smart
from app.clinician.errors import EhrUnavailable, OrderNotInLaunch
from app.errors import app_error_response
from app.launch.errors import LaunchFailed, SessionExpired
from app.staff.errors import OidcSignInFailed

# --- the launch page ---------------------------------------------------------------------------


class LaunchStep(Enum):
    DISCOVER = auto()  # reading the EHR's SMART configuration
    CALLBACK = auto()  # checking the EHR's answer against the pending launch
    REDEEM = auto()  # exchanging the code, checking the id_token


# What the clinician reads when the callback's state fails a check (smart.StateError.reason).
_LAUNCH_STATE_REFUSED = {
    "missing": "The EHR's answer carried no state. Launch again from the EHR.",
    "unknown": "This launch is unknown or was already used. Launch again from the EHR.",
    "expired": "This launch took too long and expired. Launch again from the EHR.",
    "foreign": "This launch was started in another browser. Launch again from the EHR.",
}


def launch_failed(step: LaunchStep, exc: smart.SmartError) -> LaunchFailed:
    if isinstance(exc, smart.StateError):
        return LaunchFailed(_LAUNCH_STATE_REFUSED[exc.reason])
    if isinstance(exc, smart.AuthorizationDenied):
        return LaunchFailed(
            f"The EHR did not authorize ValueLoop ({exc.error}). Launch again from the EHR, or "
            "ask your administrator to check ValueLoop's access."
        )
    if step is LaunchStep.DISCOVER:
        return LaunchFailed(
            "The EHR's SMART configuration could not be read. Try again; if it keeps "
            "failing, tell your ValueLoop administrator."
        )
    if step is LaunchStep.CALLBACK:
        return LaunchFailed("The EHR's answer carried no code. Launch again from the EHR.")
    return LaunchFailed(
        f"The EHR refused to complete the launch: {exc}. Launch again from the EHR."
    )


# --- the staff sign-in page --------------------------------------------------------------------


class SignInStep(Enum):
    DISCOVER = auto()  # reading the provider's OpenID configuration
    AUTHORIZE = auto()  # building the authorization request from our configuration
    CALLBACK = auto()  # checking the provider's answer against the pending sign-in
    ISSUER = auto()  # checking the answer came from the provider we sent the user to
    VERIFY = auto()  # exchanging the code, checking the id_token


# What the user reads when the callback's state fails a check (smart.StateError.reason).
_SIGN_IN_STATE_REFUSED = {
    "missing": "The sign-in answer was incomplete. Start again.",
    "unknown": "This sign-in link has expired or was already used. Start again.",
    "expired": "This sign-in link has expired or was already used. Start again.",
    "foreign": "This sign-in was started in another browser. Start again here.",
}

_SIGN_IN_STEP_FAILED = {
    SignInStep.DISCOVER: "The identity provider could not be reached or sent an unusable "
    "configuration. Try again, or sign in with an API token.",
    SignInStep.AUTHORIZE: "Single sign-on is not set up completely here (VALUELOOP_OIDC: "
    "client_id and scopes). Sign in with an API token, and tell your ValueLoop administrator.",
    SignInStep.CALLBACK: "The sign-in answer was incomplete. Start again.",
    SignInStep.ISSUER: "The sign-in answer came from another server. Start again.",
    SignInStep.VERIFY: "The identity provider's answer could not be verified. Start again.",
}


def sign_in_failed(
    step: SignInStep, exc: smart.SmartError | httpx.HTTPError | ValueError
) -> OidcSignInFailed:
    """Discovery also fails on the network or on a document that is not JSON."""
    if isinstance(exc, smart.StateError):
        return OidcSignInFailed(_SIGN_IN_STATE_REFUSED[exc.reason])
    if isinstance(exc, smart.AuthorizationDenied):
        return OidcSignInFailed("The identity provider did not sign you in. Try again.")
    return OidcSignInFailed(_SIGN_IN_STEP_FAILED[step])


# --- the clinician API -------------------------------------------------------------------------


def session_not_renewed(exc: smart.SmartError) -> SessionExpired:
    """The EHR refused to refresh the session's access token."""
    return SessionExpired(
        "The EHR did not renew ValueLoop's access. Open ValueLoop again from the EHR."
    )


# A read of the order a clinician names that fails with these means the launch cannot see it
# (forbidden: a patient-scoped token cannot read another patient's order at all).
ORDER_NOT_READABLE = (
    fhir_client.FhirNotFoundError,
    fhir_client.FhirForbiddenError,
    fhir_client.FhirInvalidRequestError,
)


def order_not_readable(exc: fhir_client.FhirError) -> OrderNotInLaunch:
    return OrderNotInLaunch("That order is not one this launch can see; reload the order list.")


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


async def _fhir_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, fhir_client.FhirError)
    return app_error_response(request, ehr_unavailable(exc))


def install_upstream_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(fhir_client.FhirError, _fhir_error_handler)
