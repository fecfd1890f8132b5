"""FHIR JSON to ``fhir.resources.R4B`` models, with errors that say what was wrong.

Why R4B and not the package's default classes: ``fhir.resources`` 7+ makes R5 the default
(``fhir.resources.patient``), and R5 renamed and removed elements EHRs still send in R4
(for example ``MedicationRequest.medicationCodeableConcept`` became ``medication.concept``).
R4B (4.3.0) keeps R4's resource shapes for everything ValueLoop reads, so R4 (4.0.1) JSON from
an EHR parses as it is.

Validation errors name the element and the rule it broke, never the offending value: values
are patient data, and these messages end up in logs.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource
from pydantic import BaseModel, ValidationError

from fhir_client.errors import FhirInvalidResponseError

__all__ = [
    "ID_PATTERN",
    "TYPE_PATTERN",
    "as_dict",
    "describe",
    "expect_type",
    "parse_as",
    "parse_resource",
    "resource_class",
    "validation_summary",
]

R = TypeVar("R", bound=Resource)
M = TypeVar("M", bound=BaseModel)

# FHIR R4 datatypes.html#id: resource ids are [A-Za-z0-9\-\.]{1,64}. We check the character
# set (what keeps an id inside its URL path segment) but not the length: some EHRs exceed 64
# and refusing their ids would make their records unreadable for no safety gain.
ID_PATTERN = re.compile(r"[A-Za-z0-9\-.]{1,256}")
# FHIR R4 resourcelist.html: resource type names are UpperCamelCase letters.
TYPE_PATTERN = re.compile(r"[A-Z][A-Za-z]{1,63}")

_MAX_ERRORS_SHOWN = 3


def resource_class(resource_type: str) -> type[Resource] | None:
    """The R4B model class for a resource type name, or None if it is not a resource type.

    ``get_fhir_model_class`` also knows datatypes (``Coding``), which are not resources.
    """
    if not TYPE_PATTERN.fullmatch(resource_type):
        return None
    try:
        model = get_fhir_model_class(resource_type)
    except ValueError:
        return None
    return model if issubclass(model, Resource) else None


def validation_summary(error: ValidationError) -> str:
    """The first few problems as ``element: rule``, without the input values (patient data)."""
    problems = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        where = ".".join(str(part) for part in item["loc"]) or "(resource)"
        problems.append(f"{where}: {item['msg']}")
    shown = "; ".join(problems[:_MAX_ERRORS_SHOWN])
    more = len(problems) - _MAX_ERRORS_SHOWN
    return f"{shown}; and {more} more" if more > 0 else shown


def describe(data: object) -> str:
    """``Type/id`` of a JSON resource for messages, as far as it says."""
    if not isinstance(data, dict):
        return "a non-object entry"
    resource_type = data.get("resourceType")
    resource_id = data.get("id")
    kind = resource_type if isinstance(resource_type, str) else "a resource without resourceType"
    kind = kind if TYPE_PATTERN.fullmatch(kind) else "a resource with an unknown resourceType"
    if isinstance(resource_id, str) and ID_PATTERN.fullmatch(resource_id):
        return f"{kind}/{resource_id}"
    return kind


def parse_resource(data: object, *, expected: str | None = None) -> Resource:
    """``data`` (parsed JSON) as its R4B model.

    ``expected``: the resourceType the caller asked for; anything else is refused, because a
    server that answers a Patient read with a Bundle has not answered the question.
    """
    document = _resource_object(data, expected)
    model = resource_class(document["resourceType"])
    if model is None:
        raise FhirInvalidResponseError(f"{describe(data)} is not a FHIR R4 resource type")
    return _validated(model, document)


def parse_as(model: type[M], data: object, *, expected: str) -> M:
    """``data`` (parsed JSON), a resource of type ``expected``, validated into ``model``: the
    caller's own pydantic model of the few elements it reads (see ``FhirClient.read_as``)."""
    return _validated(model, _resource_object(data, expected))


def _resource_object(data: object, expected: str | None) -> dict[str, Any]:
    """``data`` if it is a JSON object with a resourceType (``expected``, when given)."""
    if not isinstance(data, dict):
        raise FhirInvalidResponseError(
            f"expected a FHIR resource (a JSON object), got {type(data).__name__}"
        )
    resource_type = data.get("resourceType")
    if not isinstance(resource_type, str):
        raise FhirInvalidResponseError("the JSON object has no resourceType")
    if expected is not None and resource_type != expected:
        raise FhirInvalidResponseError(f"expected a {expected} resource, got {describe(data)}")
    return data


def _validated(model: type[M], document: dict[str, Any]) -> M:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        # ``from None``: pydantic's own message quotes the input values, i.e. patient data.
        raise FhirInvalidResponseError(
            f"{describe(document)} is not valid FHIR: {validation_summary(exc)}"
        ) from None


def expect_type(resource: Resource, model: type[R]) -> R:
    """``resource`` typed as ``model``, for callers that asked for one resource type."""
    if not isinstance(resource, model):
        raise FhirInvalidResponseError(
            f"expected a {model.__name__} resource, got {type(resource).__name__}"
        )
    return resource


def as_dict(value: object) -> dict[str, Any] | None:
    """``value`` if it is a JSON object, else None (FHIR JSON is untrusted input)."""
    return value if isinstance(value, dict) else None
