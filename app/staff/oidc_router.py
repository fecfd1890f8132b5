"""The browser side of OpenID Connect staff sign-in: off to the provider, and back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import APIKeyCookie

from app.audit.service import AuditAction, for_principal
from app.auth import sessions
from app.auth.dependencies import Principal
from app.dashboard.pages import render, render_sign_in, safe_next
from app.db import SessionDep
from app.dependencies import HttpDep, SettingsDep
from app.errors import AppError
from app.staff import oidc

router = APIRouter(prefix="/dashboard/sign-in/oidc", include_in_schema=False)
_binding = APIKeyCookie(name=oidc.BINDING_COOKIE, auto_error=False)


def _failed(request: Request, error: AppError) -> Response:
    return render_sign_in(request, next_path=None, error=str(error), status_code=error.status)


@router.get("", response_model=None)
async def start_sign_in(
    request: Request,
    session: SessionDep,
    http: HttpDep,
    settings: SettingsDep,
    next: str | None = None,
) -> Response:
    try:
        start = await oidc.begin(session, http, settings, next_path=safe_next(next))
    except AppError as error:
        return _failed(request, error)
    response = RedirectResponse(start.authorize_url, status_code=302)
    response.headers["Cache-Control"] = "no-store"
    # Lax, not Strict: the provider sends the browser back with a cross-site top-level GET.
    response.set_cookie(
        oidc.BINDING_COOKIE,
        start.browser_binding,
        max_age=int(oidc.SIGN_IN_LIFETIME.total_seconds()),
        path="/",
        secure=True,
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/callback", response_model=None)
async def finish_sign_in(
    request: Request,
    session: SessionDep,
    http: HttpDep,
    settings: SettingsDep,
    binding: Annotated[str | None, Depends(_binding)],
) -> Response:
    try:
        signed_in = await oidc.finish(
            session,
            http,
            settings,
            params=dict(request.query_params),
            browser_binding=binding,
        )
    except AppError as error:
        # Answered, not raised: the session dependency commits, so the pending sign-in stays
        # consumed and its state cannot be replayed.
        return _failed(request, error)
    for_principal(request, session, Principal.of_session(signed_in.started.record)).record(
        AuditAction.SIGN_IN, "staff_session", entity_id=str(signed_in.started.record.id)
    )
    # Not a redirect: this request came from the provider's site, and a browser does not send
    # a SameSite=Strict cookie on a redirect chain that began on another site. A page that
    # moves on by itself starts a same-site navigation, which carries the new session.
    response = render(
        request, "dashboard/signed_in.html", {"page": "signed-in", "next": signed_in.next_path}
    )
    sessions.set_cookie(response, signed_in.started, settings)
    response.delete_cookie(oidc.BINDING_COOKIE, path="/", secure=True, httponly=True)
    return response
