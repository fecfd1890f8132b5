"""Errors of the CDS Hooks service and its client trust. Messages say what is wrong with a
call and never echo the token.

AppError
├── Unauthorized (401)
│   └── CdsUnauthorized                   every refused CDS Hooks call
│       ├── MissingCdsToken               no ``Authorization: Bearer``
│       ├── MalformedCdsToken             not a compact JWS, or its parts are not JSON
│       ├── UnknownCdsClient              ``iss`` not registered, or deactivated
│       ├── CdsAlgorithmNotAllowed        ``none``, HMAC or any other unlisted ``alg``
│       ├── CdsJkuNotAllowed              ``jku`` other than the registered JWKS URL
│       ├── UnknownCdsSigningKey          no key with the token's ``kid``
│       ├── BadCdsSignature               the signature does not verify
│       ├── WrongCdsAudience              ``aud`` is not the URL of the service invoked
│       ├── CdsTokenExpired / CdsTokenNotYetValid / CdsTokenTooLongLived
│       ├── MissingCdsClaim               ``iss``, ``aud``, ``exp``, ``iat`` or ``jti``
│       └── ReplayedCdsToken              a ``jti`` this client has used before
├── CdsClientKeysUnavailable (503)       the client's JWKS URL cannot be read now
├── BadRequest (400)
│   ├── MalformedCdsRequest               a body without the CDS Hooks shape
│   └── UnusableHookRequest               a malformed call: its shape, hook or resources
├── PreconditionFailed (412)
│   └── EhrDataUnavailable                the EHR's FHIR server could not be read
├── NotFound (404)
│   ├── CdsClientNotFound
│   ├── UnknownService                   no CDS service with that id
│   └── UnknownCard                      no card this service gave this client
└── UnprocessableContent (422)
    ├── InvalidCdsClient                  a registration we cannot accept
    └── UnusableFeedback                  feedback that does not fit its card
"""

from __future__ import annotations

from typing import Any

from app.errors import (
    AppError,
    BadRequest,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    UnprocessableContent,
)


class CdsUnauthorized(Unauthorized):
    slug = "cds-client-unauthorized"
    title = "The CDS client could not be authenticated"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        # RFC 6750 section 3.1: a token that was sent but is not acceptable is invalid_token.
        self.headers["WWW-Authenticate"] = 'Bearer realm="cds-services", error="invalid_token"'


class MissingCdsToken(CdsUnauthorized):
    slug = "cds-token-missing"
    title = "CDS Hooks calls need a bearer JWT"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        # RFC 6750 section 3.1: no error code when the request carried no credentials at all.
        self.headers["WWW-Authenticate"] = 'Bearer realm="cds-services"'


class MalformedCdsToken(CdsUnauthorized):
    slug = "cds-token-malformed"


class UnknownCdsClient(CdsUnauthorized):
    slug = "unknown-cds-client"
    title = "Unknown CDS client"


class CdsAlgorithmNotAllowed(CdsUnauthorized):
    slug = "cds-token-algorithm"


class CdsJkuNotAllowed(CdsUnauthorized):
    slug = "cds-token-jku"


class UnknownCdsSigningKey(CdsUnauthorized):
    slug = "cds-token-unknown-key"


class BadCdsSignature(CdsUnauthorized):
    slug = "cds-token-signature"


class WrongCdsAudience(CdsUnauthorized):
    slug = "cds-token-audience"


class CdsTokenExpired(CdsUnauthorized):
    slug = "cds-token-expired"


class CdsTokenNotYetValid(CdsUnauthorized):
    slug = "cds-token-not-yet-valid"


class CdsTokenTooLongLived(CdsUnauthorized):
    slug = "cds-token-too-long-lived"


class MissingCdsClaim(CdsUnauthorized):
    slug = "cds-token-claim-missing"


class ReplayedCdsToken(CdsUnauthorized):
    slug = "cds-token-replayed"


class CdsClientKeysUnavailable(AppError):
    """The client's keys cannot be fetched: nothing is wrong with the caller's token as far as
    we know, and the same call may pass in a moment, so 503 with ``Retry-After`` rather than
    a 401 that would send the EHR's operators looking for a fault in their signing."""

    status = 503
    slug = "cds-client-keys-unavailable"
    title = "The CDS client's public keys cannot be read"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.headers["Retry-After"] = "30"


class CdsClientNotFound(NotFound):
    slug = "cds-client-not-found"
    title = "No such CDS client"


class InvalidCdsClient(UnprocessableContent):
    slug = "invalid-cds-client"
    title = "Invalid CDS client registration"


class UnknownService(NotFound):
    slug = "unknown-cds-service"
    title = "No such CDS service"


class MalformedCdsRequest(BadRequest):
    """A body that does not have the CDS Hooks 2.0 shape (a required field missing, a field
    of the wrong type); ``errors`` names each field, as the API's 422s do."""

    slug = "malformed-cds-request"
    title = "Malformed CDS Hooks request"


class UnusableHookRequest(BadRequest):
    """A hook call that is not one we can read (CDS Hooks 2.0 lists 400 for a malformed
    request): a field missing or of the wrong shape, a resource that is not valid FHIR R4."""

    slug = "unusable-hook-request"
    title = "The hook request cannot be judged"


class EhrDataUnavailable(PreconditionFailed):
    """CDS Hooks 2.0 "HTTP Response": 412 when the service "is unable to retrieve the
    necessary FHIR data to execute its decision support, either through a prefetch request
    or directly calling the FHIR server"."""

    slug = "cds-ehr-data-unavailable"
    title = "The EHR's FHIR data could not be read"


class UnknownCard(NotFound):
    slug = "unknown-cds-card"
    title = "No such card"


class UnusableFeedback(UnprocessableContent):
    slug = "unusable-cds-feedback"
    title = "The feedback does not fit the card"
