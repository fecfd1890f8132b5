"""Errors of the clinician API, read by a clinician in the EHR frame."""

from __future__ import annotations

from app.errors import AppError, UnprocessableContent


class EhrUnavailable(AppError):
    status = 502
    slug = "ehr-unavailable"
    title = "The EHR did not answer"


class OrderNotInLaunch(UnprocessableContent):
    slug = "order-not-in-launch"
    title = "That order is not part of this launch"
