"""Errors of EHR registration. An unknown issuer is shown to a clinician in the EHR frame."""

from __future__ import annotations

from app.errors import Forbidden, NotFound, UnprocessableContent


class UnknownIssuer(Forbidden):
    slug = "unknown-issuer"
    title = "This EHR is not registered with ValueLoop"


class InvalidRegistration(UnprocessableContent):
    slug = "invalid-ehr-registration"
    title = "Invalid EHR registration"


class EhrNotFound(NotFound):
    slug = "ehr-not-found"
    title = "No such registered EHR"
