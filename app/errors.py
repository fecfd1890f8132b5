"""RFC 9457 problem details: one error base class and the handlers that render it.

Every layer raises its own subclass of :class:`AppError` (registry, auth, ...) carrying the HTTP
status; the handlers here turn those, FastAPI's validation errors and Starlette's HTTP errors
into ``application/problem+json``. Messages are written for the person reading them and never
contain tokens or patient data.

    AppError
    ├── BadRequest (400)          malformed JSON, bad cursor
    ├── Unauthorized (401)
    ├── Forbidden (403)
    ├── NotFound (404)
    ├── Conflict (409)
    ├── PreconditionFailed (412)
    ├── PayloadTooLarge (413)
    ├── UnprocessableContent (422)
    └── PreconditionRequired (428)

A request that waits too long for a database connection, or whose connection the database
dropped (a restart), gets 503 with ``Retry-After``: nothing was saved, and "try again" is the
truth a client can act on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:valueloop:problem:"

logger = logging.getLogger(__name__)


class AppError(Exception):
    """Base of every error that ValueLoop turns into a problem+json response."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions
        self.headers: dict[str, str] = {}


class BadRequest(AppError):
    status = 400
    slug = "bad-request"
    title = "Bad request"


class Unauthorized(AppError):
    status = 401
    slug = "unauthorized"
    title = "Authentication required"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        # RFC 6750 section 3: a 401 names the scheme the client should use.
        self.headers["WWW-Authenticate"] = 'Bearer realm="valueloop"'


class Forbidden(AppError):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class NotFound(AppError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(AppError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class PreconditionFailed(AppError):
    status = 412
    slug = "precondition-failed"
    title = "Changed by someone else"


class PayloadTooLarge(AppError):
    status = 413
    slug = "payload-too-large"
    title = "Request body too large"


class UnprocessableContent(AppError):
    status = 422
    slug = "unprocessable-content"
    title = "The request cannot be carried out as sent"


class PreconditionRequired(AppError):
    status = 428
    slug = "precondition-required"
    title = "If-Match required"


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    """Build one problem+json response (RFC 9457 section 3)."""
    body: dict[str, Any] = {
        "type": f"{PROBLEM_TYPE_PREFIX}{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if extensions:
        body.update(extensions)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _field_path(location: Sequence[int | str]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        kind, rest = parts[0], parts[1:]
        return ".".join(rest) if rest else kind
    return ".".join(parts)


def _validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return problem_response(
            400,
            "Malformed JSON",
            "The request body is not valid JSON. Check quoting and commas.",
            slug="malformed-json",
            instance=request.url.path,
        )
    return invalid_request_response(validation_fields(exc), instance=request.url.path)


def validation_fields(exc: RequestValidationError) -> list[dict[str, str]]:
    """Each field at fault as ``{"field", "in", "message"}``, without the values sent."""
    return [
        {
            "field": _field_path(error.get("loc", ())),
            "in": str(error.get("loc", ("body",))[0]),
            "message": _readable_message(error),
        }
        for error in exc.errors()
    ]


def fields_summary(fields: list[dict[str, str]]) -> str:
    return "; ".join(f"{item['field']}: {item['message']}" for item in fields[:5])


def invalid_request_response(fields: list[dict[str, str]], *, instance: str) -> JSONResponse:
    """422 naming each field at fault: ``{"field", "in", "message"}`` per field."""
    return problem_response(
        422,
        "Invalid request",
        fields_summary(fields),
        slug="validation-error",
        instance=instance,
        extensions={"errors": fields},
    )


def _readable_message(error: dict[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return "unknown field; remove it (see /docs for the fields this endpoint takes)"
    message = str(error.get("msg", "invalid value"))
    return message[:1].lower() + message[1:]


async def _app_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return app_error_response(request, exc)


def app_error_response(request: Request, exc: AppError) -> JSONResponse:
    """The problem+json response for one of our errors."""
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        slug=exc.slug,
        instance=request.url.path,
        headers=exc.headers or None,
        extensions=exc.extensions or None,
    )


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _validation_problem(request, exc)


_HTTP_DETAILS = {
    404: "No such resource. The API lives under /api/v1; see /docs.",
    405: "This method is not allowed on this resource; see /docs for the allowed ones.",
}


async def _http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    title = {404: "Not found", 405: "Method not allowed", 413: "Request body too large"}.get(
        exc.status_code, detail
    )
    return problem_response(
        exc.status_code,
        title,
        _HTTP_DETAILS.get(exc.status_code, detail),
        instance=request.url.path,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _pool_timeout_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PoolTimeout)
    return _try_again(
        request,
        "database pool exhausted",
        "Busy",
        "ValueLoop is busier than it can serve right now and nothing was saved.",
        slug="busy",
    )


async def _database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if not exc.connection_invalidated:
        return await _unexpected_error_handler(request, exc)
    return _try_again(
        request,
        "database connection lost",
        "Database connection lost",
        "ValueLoop lost its connection to the database and nothing was saved.",
        slug="database-unavailable",
    )


async def _stale_data_handler(request: Request, exc: Exception) -> JSONResponse:
    """A write that lost a race the repository did not catch itself (an autoflush inside a
    query): the same answer as a failed If-Match, since nothing was saved."""
    assert isinstance(exc, StaleDataError)
    return app_error_response(
        request,
        PreconditionFailed(
            "Someone else changed this while you were working on it and nothing was saved. "
            "Reload it, check their change, and try again."
        ),
    )


def _try_again(
    request: Request, log_message: str, title: str, detail: str, *, slug: str
) -> JSONResponse:
    """503 with Retry-After, for a failure that a retry in a moment gets past."""
    logger.warning(log_message, extra={"request_id": getattr(request.state, "request_id", None)})
    return problem_response(
        503,
        title,
        f"{detail} Try again in a moment.",
        slug=slug,
        instance=request.url.path,
        headers={"Retry-After": "1"},
    )


async def _unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    # The traceback goes to the log (without request bodies); the client gets a reference.
    logger.error("unhandled error", exc_info=exc, extra={"request_id": request_id})
    return problem_response(
        500,
        "Internal error",
        "Something went wrong on our side and nothing was saved. "
        f"Quote request id {request_id} when you report it.",
        instance=request.url.path,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    app.add_exception_handler(PoolTimeout, _pool_timeout_handler)
    app.add_exception_handler(DBAPIError, _database_error_handler)
    app.add_exception_handler(StaleDataError, _stale_data_handler)
    app.add_exception_handler(Exception, _unexpected_error_handler)
