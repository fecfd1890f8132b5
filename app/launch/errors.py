"""Launch errors. Shown to a clinician in the EHR frame, so each says what to do next."""

from __future__ import annotations

from app.errors import (
    AppError,
    BadRequest,
    Forbidden,
    NotFound,
    Unauthorized,
    UnprocessableContent,
)


class UnknownIssuer(Forbidden):
    slug = "unknown-issuer"
    title = "This EHR is not registered with ValueLoop"


class InvalidRegistration(UnprocessableContent):
    slug = "invalid-ehr-registration"
    title = "Invalid EHR registration"


class LaunchFailed(BadRequest):
    slug = "launch-failed"
    title = "The launch could not be completed"


class SessionExpired(Unauthorized):
    slug = "session-expired"
    title = "Session expired"


class EhrUnavailable(AppError):
    status = 502
    slug = "ehr-unavailable"
    title = "The EHR did not answer"


class OrderNotInLaunch(UnprocessableContent):
    slug = "order-not-in-launch"
    title = "That order is not part of this launch"


class EhrNotFound(NotFound):
    slug = "ehr-not-found"
    title = "No such registered EHR"
