"""Everything ``fhir_client`` raises, so the app can map each case to one answer.

FhirError                          anything below; catch it to handle "the EHR read failed"
├── FhirInvalidRequestError        we were asked for a request that is not valid FHIR REST
│                                  (a resource type or id that could escape its URL path);
│                                  nothing was sent. Also a ValueError: it is a caller bug.
├── FhirUnsafeLinkError            a URL the server named (a paging link, a redirect) leaves
│                                  the FHIR base's origin or path prefix; nothing was sent
├── FhirTransportError             no HTTP answer at all
│   ├── FhirTimeoutError           connect, read or the whole attempt took too long
│   └── FhirConnectionError        DNS, refused connection, TLS, a dropped connection
├── FhirHttpError                  the server answered with an error status (``status``,
│   │                              ``issues`` from its OperationOutcome, ``retry_after``)
│   ├── FhirUnauthorizedError      401: the token is missing, expired or revoked: relaunch
│   ├── FhirForbiddenError         403: the token's scopes or patient context do not allow it
│   ├── FhirNotFoundError          404 or 410: no such resource (or type) on this server
│   └── FhirRateLimitedError       429: still throttled after the retries
├── FhirResponseTooLargeError      the body passed ``max_response_bytes``; reading stopped
└── FhirInvalidResponseError       not JSON, not the expected resourceType, or a resource
                                   ``fhir.resources`` (R4B) rejects

Messages are safe to log and to show a clinician's support desk: they never carry the
access token (the client redacts it from anything it did not write itself) and name resource
types and interactions rather than patient data. Text that comes from the EHR
(OperationOutcome ``diagnostics``) is kept, because it is often the only explanation there
is, but cut short and stripped of control characters: it is untrusted input bound for logs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fhir.resources.R4B.operationoutcome import OperationOutcome

__all__ = [
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
    "remote_text",
]

_MAX_REMOTE_TEXT = 300


def remote_text(value: object) -> str | None:
    """An EHR-supplied string made safe for a log line: printable and at most 300 characters."""
    if not isinstance(value, str):
        return None
    cleaned = "".join(char if char.isprintable() else " " for char in value).strip()
    return cleaned[:_MAX_REMOTE_TEXT] or None


class FhirError(Exception):
    """Base class: a FHIR interaction did not produce the resources asked for."""


class FhirInvalidRequestError(FhirError, ValueError):
    """The caller asked for something that cannot be a FHIR REST URL; nothing was sent.

    A resource id comes from the launch context, i.e. from the EHR; one like ``../x`` would
    otherwise change which path (and so which endpoint) receives the bearer token.
    """


class FhirUnsafeLinkError(FhirError):
    """A URL named by the server points outside the FHIR base; it was not requested.

    DESIGN.md "Living in an EHR frame": the bearer token goes only to the issuer's FHIR base.
    Some reference clients follow any ``next`` link with the token attached, which hands the
    token to whoever controls the link.
    """


class FhirTransportError(FhirError):
    """No HTTP response arrived; retried (GET is idempotent) before this is raised."""


class FhirTimeoutError(FhirTransportError):
    """Connecting, sending, waiting for or reading the answer took longer than ``timeout``."""


class FhirConnectionError(FhirTransportError):
    """The connection could not be made or broke before a complete answer arrived."""


class FhirHttpError(FhirError):
    """The FHIR server answered with a 4xx or 5xx status.

    ``issues`` are the human-readable texts of the server's OperationOutcome (FHIR R4
    http.html#errors: servers SHOULD return one with an error status), ``outcome`` the whole
    resource when it parsed. ``retry_after`` is the server's ``Retry-After`` in seconds
    (RFC 9110 section 10.2.3) when it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        issues: tuple[str, ...] = (),
        outcome: OperationOutcome | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.issues = issues
        self.outcome = outcome
        self.retry_after = retry_after


class FhirUnauthorizedError(FhirHttpError):
    """401: the access token is missing, expired or revoked (RFC 6750 section 3.1).

    Never retried: the same token will fail again. Refresh it or relaunch.
    """


class FhirForbiddenError(FhirHttpError):
    """403: the token is valid but its scopes or patient context do not cover this request."""


class FhirNotFoundError(FhirHttpError):
    """404 (or 410 Gone): the resource, or the resource type, is not on this server."""


class FhirRateLimitedError(FhirHttpError):
    """429: the server kept throttling after the retries, or asked for a longer wait than
    the client is willing to make a clinician sit through (``retry_after`` says how long)."""


class FhirResponseTooLargeError(FhirError):
    """The response body passed ``max_response_bytes``; the rest was not read.

    A cap keeps one enormous (or endless) answer from taking the app process's memory.
    """


class FhirInvalidResponseError(FhirError):
    """The server answered 2xx with something that is not the FHIR resource asked for."""
