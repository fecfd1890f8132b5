"""The SMART launch endpoints the EHR opens: ``/launch`` and ``/launch/callback``.

Both answer in HTML, inside the EHR's frame: a clinician reads the errors, not a program.
All redirects stay in the same frame (no pop-ups), and the pages may be framed only by the
launching EHR's registered origins (CSP ``frame-ancestors``; never X-Frame-Options: DENY).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from app.audit.service import AuditAction, for_request
from app.db import SessionDep
from app.dependencies import HttpDep, SettingsDep
from app.ehrs.errors import UnknownIssuer
from app.errors import AppError
from app.flags.catalog import DRIVER_LABELS, REASON_LABELS, ReporterRole
from app.kit.cookies import delete_partitioned_cookie, set_partitioned_cookie
from app.launch import service
from app.launch.errors import LaunchFailed
from app.pages import templates

router = APIRouter(include_in_schema=False)

# __Host-: Secure, Path=/ and no Domain, so no other host or path can set or shadow it.
BINDING_COOKIE = "__Host-vl_launch"
# SMART 2.x: launch is an opaque value the EHR chose; it goes back to the EHR in a URL, so
# anything but printable ASCII (a CR/LF above all) is refused rather than passed on encoded.
_LAUNCH_VALUE = re.compile(r"[\x20-\x7e]{1,500}")


def frame_policy(origins: Sequence[str]) -> str:
    """CSP for pages shown in the EHR frame: only the registered EHR origins may frame them."""
    ancestors = " ".join(origins) if origins else "'none'"
    return (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
    )


def _error_page(request: Request, error: AppError, origins: Sequence[str] = ()) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        "launch_error.html",
        {"title": error.title, "detail": error.detail},
        status_code=error.status,
    )
    # An unregistered EHR gets no framing rights; a registered one sees the message in place.
    response.headers["Content-Security-Policy"] = frame_policy(origins)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/launch", response_model=None)
async def launch(
    request: Request,
    session: SessionDep,
    http: HttpDep,
    settings: SettingsDep,
    iss: Annotated[str, Query(max_length=500)] = "",
    launch: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """EHR launch (with ``launch``) or standalone launch (without)."""
    binding = secrets.token_urlsafe(24)
    try:
        if launch is not None and not _LAUNCH_VALUE.fullmatch(launch):
            raise LaunchFailed(
                "The EHR sent a launch value ValueLoop cannot use. Launch again from the EHR; "
                "if it keeps failing, tell your ValueLoop administrator."
            )
        start = await service.begin(
            session, http, settings, iss=iss, launch=launch, browser_binding=binding
        )
    except UnknownIssuer as error:
        _record_refused_issuer(request, session, iss)
        return _error_page(request, error)
    except AppError as error:
        return _error_page(request, error)
    response = RedirectResponse(start.authorize_url, status_code=302)
    response.headers["Content-Security-Policy"] = frame_policy(start.ehr.frame_origins)
    response.headers["Cache-Control"] = "no-store"
    # Binds the launch to this browser where cookies work; inside an EHR frame that blocks
    # third-party cookies it is simply absent, and the callback does without it.
    set_partitioned_cookie(
        response,
        BINDING_COOKIE,
        binding,
        max_age=int(service.STATE_LIFETIME.total_seconds()),
    )
    return response


def _record_refused_issuer(request: Request, session: SessionDep, iss: str) -> None:
    """A launch from an unregistered EHR is a security event: record it (committed with the
    error page). Only the host: the rest of an attacker's URL could carry anything."""
    try:
        host = urlsplit(iss).hostname
    except ValueError:
        host = None
    for_request(
        request, session, actor_kind="anonymous", actor_id="unregistered EHR", actor_role="none"
    ).record(
        AuditAction.REFUSE,
        "launch",
        details={"reason": "unregistered issuer", "issuer_host": (host or "")[:253] or None},
    )


@router.get("/launch/callback", response_model=None)
async def callback(
    request: Request,
    session: SessionDep,
    http: HttpDep,
    settings: SettingsDep,
    state: Annotated[str | None, Query(max_length=500)] = None,
    code: Annotated[str | None, Query(max_length=2000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
    iss: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """The EHR's redirect back: finish the launch and show the in-EHR page."""
    try:
        result = await service.finish(
            session,
            http,
            settings,
            state=state,
            code=code,
            error=error,
            browser_binding=request.cookies.get(BINDING_COOKIE),
            iss=iss,
        )
    except AppError as failure:
        return _error_page(request, failure)
    response = templates.TemplateResponse(
        request,
        "ehr_app.html",
        {
            "session_handle": result.handle,
            "session": result.app_session,
            # The flag form is rendered on the server from the catalog, so the page's script
            # never carries its own copy of the vocabulary.
            "reasons": [(reason.value, label) for reason, label in REASON_LABELS.items()],
            "roles": [
                (role.value, role.value.replace("_", " ").capitalize()) for role in ReporterRole
            ],
            "default_role": ReporterRole.PHYSICIAN.value,
            "drivers": [(driver.value, label) for driver, label in DRIVER_LABELS.items()],
        },
    )
    response.headers["Content-Security-Policy"] = frame_policy(result.ehr.frame_origins)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    delete_partitioned_cookie(response, BINDING_COOKIE)
    set_partitioned_cookie(
        response,
        service.SESSION_COOKIE,
        result.handle,
        max_age=int(service.SESSION_MAX_AGE.total_seconds()),
    )
    return response


@router.get("/.well-known/jwks.json")
async def jwks(settings: SettingsDep) -> JSONResponse:
    """ValueLoop's public key for EHRs that authenticate it with private_key_jwt."""
    from app.ehrs.keys import client_signing_key

    try:
        key = client_signing_key(settings)
    except RuntimeError:
        return JSONResponse({"keys": []})
    return JSONResponse({"keys": [key.public_jwk()]})
