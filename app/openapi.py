"""The OpenAPI document, completed with every error response each operation can give.

FastAPI documents what a handler returns and, for a route with parameters, a 422 in a shape
this API never sends. The errors that middleware, dependencies and services raise are
invisible to it, yet a client generated from ``/openapi.json`` must handle them. All are RFC
9457 ``application/problem+json`` (``app/errors.py``). :func:`install_error_responses` makes
``app.openapi`` add them, once, with a shared ``Problem`` schema, derived from facts about
the app and each route:

- the app refuses NUL characters in any text (``TextInputMiddleware``): 422 everywhere;
- it refuses writes a browser sends from another site (``SameOriginWritesMiddleware``):
  403 on every method that changes things;
- it limits request bodies (``BodySizeLimitMiddleware``): 413 where there is a body;
- the route declares a security scheme, or depends on the clinician's launch session: 401;
- it depends on a role check (``require(permission)``): 403, naming the roles allowed;
- it depends on the staff principal and changes things: 403 (the dashboard's CSRF token);
- a path parameter: 404; an ``If-Match`` header: 412;
- a ``cursor`` query parameter (decoded by ``app/kit/pagination``): 400;
- a request body: 400 (malformed JSON) and 422; any parameter: 422 (replacing FastAPI's);
- it depends on the outbound HTTP client (it calls the EHR): 502;
- it depends on the database session: 503 (no connection in time: retry).

What no signature shows (a handler that insists on If-Match, a workflow or idempotency
conflict, bulk items that carry their own ids and versions) is listed per handler in
``_HANDLER_RESPONSES``, short on purpose.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Collection, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from app import health
from app.auth import router as tokens_router
from app.auth.dependencies import current_principal, require
from app.auth.permissions import Permission, roles_with
from app.cds import router as cds_router
from app.clinician import dependencies as clinician_dependencies
from app.clinician import router as clinician_router
from app.db import get_session
from app.dependencies import get_http
from app.errors import PROBLEM_JSON
from app.flags import router as flags_router
from app.middleware import (
    BodySizeLimitMiddleware,
    SameOriginWritesMiddleware,
    TextInputMiddleware,
)
from app.notifications import router as notifications_router
from app.prices import router as prices_router
from app.staff import router as staff_router
from app.staff import session_router

__all__ = ["PROBLEM_SCHEMA", "complete", "dependency_calls", "install_error_responses"]

Responses = dict[int, list[str]]

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# RFC 9110 section 9.2.1: the methods that change nothing.
_SAFE_METHODS = frozenset({"get", "head", "options"})
# Every dependency ``require`` makes runs this code; its closure holds the permission.
_ROLE_CHECK_CODE = getattr(require(Permission.READ_FLAGS), "__code__", None)

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. `type` names the kind of problem and `detail` "
    "says what to do about it; some problems add the members listed here.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "format": "uri-reference",
            "description": "`urn:valueloop:problem:<slug>`, or `about:blank`.",
        },
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "The request's path."},
        "errors": {
            "type": "array",
            "description": "422: what is wrong with each field.",
            "items": {
                "type": "object",
                "required": ["field", "in", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "in": {"type": "string", "description": "body, query, path or header."},
                    "message": {"type": "string"},
                },
            },
        },
        "allowed_transitions": {
            "type": "array",
            "items": {"type": "string"},
            "description": "409 invalid-transition: the statuses the flag can move to.",
        },
        "missing": {
            "type": "array",
            "items": {"type": "string"},
            "description": "404 in a bulk change: the ids that name no flag.",
        },
        "conflicts": {
            "type": "array",
            "items": {"type": "object"},
            "description": "412 in a bulk change: each flag that moved on, with its versions.",
        },
        "failures": {
            "type": "array",
            "items": {"type": "object"},
            "description": "422 bulk-change-refused: each flag that cannot take the change.",
        },
        "field": {"type": "string", "description": "The field an invalid registration names."},
    },
}

# A dependency's failures are responses of every route that depends on it.
_DEPENDENCY_RESPONSES: dict[Callable[..., Any], Responses] = {
    clinician_dependencies.app_session: {
        401: ["No live launch session in `X-ValueLoop-Session`: open ValueLoop from the EHR."]
    },
    get_http: {502: ["The EHR did not answer."]},
    get_session: {503: ["Busy: no database connection in time. Nothing was saved; retry."]},
}

# What a handler (or the service it calls) refuses that no signature shows. Writes with an
# optional If-Match answer 412 but never 428, so the header alone cannot tell.
_HANDLER_RESPONSES: dict[Callable[..., Any], Responses] = {
    flags_router.transition_flag: {
        409: ["The workflow does not allow this move from the flag's status."],
        428: ["If-Match is required."],
    },
    flags_router.assign_flag: {428: ["If-Match is required."]},
    flags_router.update_flag: {428: ["If-Match is required."]},
    flags_router.reclassify_flag: {428: ["If-Match is required."]},
    flags_router.bulk_transition: {
        404: ["An item names no flag (`missing`)."],
        412: ["An item's version is not the flag's current one (`conflicts`)."],
    },
    flags_router.bulk_assign: {
        404: ["An item names no flag (`missing`)."],
        412: ["An item's version is not the flag's current one (`conflicts`)."],
    },
    clinician_router.flag_order: {
        409: [
            "The idempotency key was used for a different flag, or the same flag is being "
            "created by another request."
        ]
    },
    session_router.sign_in: {401: ["The token is unknown or revoked."]},
    staff_router.add_staff: {409: ["The email is already in the staff directory."]},
    staff_router.update_staff: {409: ["The email is already in the staff directory."]},
    tokens_router.create_token: {404: ["`staff_id` names nobody in the staff directory."]},
    notifications_router.retry_delivery: {
        409: ["The delivery was delivered; a delivery known to have succeeded is never resent."]
    },
    prices_router.load_prices: {415: ["The body is not CSV (`text/csv`, UTF-8)."]},
    health.readyz: {503: ["Not ready: the database is unreachable or not migrated."]},
    cds_router.call_service: {
        400: [
            "Malformed CDS Hooks request: `errors` names each field.",
            "A hook this service does not answer, no Patient, or a draft order that is not "
            "valid FHIR R4.",
        ],
        412: ["The EHR's FHIR server could not be read."],
    },
    cds_router.give_feedback: {400: ["Malformed feedback: `errors` names each field."]},
}


# CDS Hooks answers a body it cannot read with 400, not 422 (app/cds/router.CdsHooksRoute).
_CDS_HOOKS_ROUTES = {cds_router.call_service}


def install_error_responses(app: FastAPI) -> None:
    """Make ``app.openapi`` (so ``/openapi.json`` and ``/docs``) serve the completed document.

    FastAPI caches its document until the routes change; each one it builds is completed
    once, in place, so the cache holds the completed document.
    """
    generate = app.openapi
    completed: dict[str, Any] | None = None

    def openapi() -> dict[str, Any]:
        nonlocal completed
        document = generate()
        if document is not completed:
            completed = complete(document, app)
        return completed

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """Add every operation's error responses to ``document`` (changed in place, returned)."""
    middleware = {entry.cls for entry in app.user_middleware}
    # Route contexts, not ``app.routes``: an included router is one entry there, and its
    # routes have the path and dependencies they are served with only in their contexts.
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            _describe_parameters(operation)
            found = _route_responses(route.dependant, route.endpoint, method.lower(), operation)
            for status, reasons in _middleware_responses(middleware, method, operation).items():
                found.setdefault(status, []).extend(reasons)
            _document(operation, found)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    # FastAPI's validation-error shapes, unused now that every 422 is a Problem.
    if '"#/components/schemas/HTTPValidationError"' not in json.dumps(document["paths"]):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return document


# Parameters that mean the same on every operation are described once, here; any other
# parameter describes itself where it is declared (tests/test_openapi_document.py checks).
_HEADER_DESCRIPTIONS = {
    "if-match": "The `ETag` of the flag as you read it: the change is refused (412) if the "
    "flag has changed since.",
    "x-valueloop-session": "The app-session handle the in-EHR page was given at launch "
    "(EHR frames may block cookies).",
}


def _describe_parameters(operation: dict[str, Any]) -> None:
    """Give path ids and the shared headers their description where the route gave none."""
    for parameter in operation.get("parameters", []):
        if parameter.get("description"):
            continue
        name = parameter["name"]
        if parameter["in"] == "header" and name.lower() in _HEADER_DESCRIPTIONS:
            parameter["description"] = _HEADER_DESCRIPTIONS[name.lower()]
        elif parameter["in"] == "path" and name.endswith("_id"):
            parameter["description"] = f"The {name.removesuffix('_id').replace('_', ' ')}'s id."


def _middleware_responses(
    middleware: Collection[Any], method: str, operation: dict[str, Any]
) -> Responses:
    """What the app's middleware refuses before any route runs."""
    found: Responses = {}
    if TextInputMiddleware in middleware:
        found[422] = ["Text with a NUL character or a lone surrogate, anywhere in the request."]
    if SameOriginWritesMiddleware in middleware and method.lower() not in _SAFE_METHODS:
        found[403] = ["A browser sent this change from another site."]
    if BodySizeLimitMiddleware in middleware and "requestBody" in operation:
        found[413] = ["The body is larger than this API accepts."]
    return found


def _route_responses(
    dependant: Dependant,
    endpoint: Callable[..., Any] | None,
    method: str,
    operation: dict[str, Any],
) -> Responses:
    """The errors of one operation, each with the reasons it can happen."""
    found: Responses = {}

    def add(status: int, reason: str) -> None:
        found.setdefault(status, []).append(reason)

    def merge(responses: Responses) -> None:
        for status, reasons in responses.items():
            for reason in reasons:
                add(status, reason)

    parameters = operation.get("parameters", [])
    if operation.get("security"):
        add(401, "Not signed in: no valid API token (bearer) or dashboard session.")
    for call in dependency_calls(dependant):
        merge(_DEPENDENCY_RESPONSES.get(call, {}))
        permission = _checked_permission(call)
        if permission is not None:
            roles = ", ".join(role.value for role in roles_with(permission))
            add(403, f"The caller's role may not do this; it needs one of: {roles}.")
        if call is current_principal and method not in _SAFE_METHODS:
            add(403, "A dashboard session sent no CSRF token.")
    for parameter in parameters:
        if parameter["in"] == "path":
            add(404, f"No such {parameter['name'].removesuffix('_id')}.")
        if parameter["in"] == "header" and parameter["name"].lower() == "if-match":
            add(412, "The flag changed since the ETag in If-Match was read; reload it.")
        if parameter["in"] == "query" and parameter["name"] == "cursor":
            add(400, "The cursor is damaged; start again from the first page.")
    if "requestBody" in operation:
        add(400, "The body is not valid JSON.")
    if (parameters or "requestBody" in operation) and endpoint not in _CDS_HOOKS_ROUTES:
        add(422, "Invalid request: `errors` says what is wrong with each field.")
    if endpoint is not None:
        merge(_HANDLER_RESPONSES.get(endpoint, {}))
    return found


def _document(operation: dict[str, Any], errors: Responses) -> None:
    """Write the errors into the operation's responses, in status order."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, reasons in errors.items():
        declared = responses.get(str(status), {})
        # A description a route wrote itself stays; FastAPI's stock one for 422 does not.
        kept = declared.get("description") not in (None, "Validation Error")
        entry: dict[str, Any] = {
            "description": declared["description"]
            if kept
            else " ".join(dict.fromkeys(reasons)) or HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}},
        }
        if status == 401:
            # RFC 6750 section 3: a 401 names the scheme the client should use.
            entry["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        responses[str(status)] = entry
    operation["responses"] = dict(sorted(responses.items()))


def dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    """Every dependency a route runs, nested ones included."""
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from dependency_calls(dependency)


def _checked_permission(call: Callable[..., Any]) -> Permission | None:
    """The permission a dependency made by ``require(permission)`` checks, else None."""
    if _ROLE_CHECK_CODE is None or getattr(call, "__code__", None) is not _ROLE_CHECK_CODE:
        return None
    permission = inspect.getclosurevars(call).nonlocals.get("permission")
    return permission if isinstance(permission, Permission) else None
