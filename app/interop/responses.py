"""FHIR's media types as responses, and how the OpenAPI document declares them."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from fhir.resources.R4B.resource import Resource

from app.interop.urls import FHIR_JSON, FHIR_NDJSON


def fhir_json(resource: Resource) -> str:
    """The resource as compact FHIR JSON: aliases (``for``, ``class``), no empty elements, and
    line breaks inside strings escaped (so one resource is one NDJSON line)."""
    return resource.model_dump_json(by_alias=True, exclude_none=True)


class FhirJsonResponse(Response):
    """One resource as ``application/fhir+json`` (R4 3.1.0.1.10)."""

    media_type = FHIR_JSON

    # FastAPI reads the default status from this signature for the OpenAPI document.
    def __init__(self, resource: Resource, status_code: int = 200, **kwargs: Any) -> None:
        super().__init__(content=fhir_json(resource), status_code=status_code, **kwargs)


def fhir_json_response(description: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route that answers with one FHIR resource."""
    return {
        200: {
            "description": description,
            "content": {FHIR_JSON: {"schema": {"type": "object"}}},
        }
    }


FHIR_NDJSON_CONTENT: dict[str, Any] = {FHIR_NDJSON: {}}
