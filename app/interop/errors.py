"""Errors of the FHIR view, rendered as problem+json like every other error (app/errors.py)."""

from __future__ import annotations

from app.errors import NotFound, UnprocessableContent


class CodeSystemNotFound(NotFound):
    slug = "code-system-not-found"
    title = "No such code system"


class UnknownResourceType(UnprocessableContent):
    slug = "unknown-resource-type"
    title = "Not a resource type this export makes"
