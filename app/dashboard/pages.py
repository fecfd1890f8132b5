"""The dashboard's pages: HTML shells whose scripts do all their work through the REST API.

A page is served only to a signed-in staff member whose role may use it; anyone else is sent
to the sign-in page (or shown why not). The page carries the session's CSRF token for the
scripts' writes, and may not be framed.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import APIKeyCookie

from app.auth import sessions
from app.auth.errors import SessionEnded
from app.auth.models import Role, StaffSession
from app.auth.permissions import Permission, granted
from app.config import Mode
from app.db import SessionDep
from app.dependencies import SettingsDep
from app.pages import PAGE_CSP, templates

router = APIRouter(prefix="/dashboard", include_in_schema=False)
_cookie = APIKeyCookie(name=sessions.COOKIE, auto_error=False)


class SignInRequired(Exception):
    """Raised by page dependencies; turned into a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageNotAllowed(Exception):
    def __init__(self, role: Role, permission: Permission) -> None:
        super().__init__(permission.value)
        self.role = role
        self.permission = permission


# A sign-in in flight stores where to go next; a longer address (a very long search) starts
# over at the queue rather than failing.
MAX_NEXT_LENGTH = 500
SIGN_IN_PATH = "/dashboard/sign-in"


def safe_next(path: str | None) -> str:
    """Where to go after signing in: only a dashboard path on this site (no open redirect),
    and never the sign-in page itself (signing in would only lead back to it)."""
    if (
        path
        and len(path) <= MAX_NEXT_LENGTH
        and path.startswith("/dashboard/")
        and not path.startswith(SIGN_IN_PATH)
        and not path.startswith("//")
        and "\\" not in path
    ):
        return path
    return "/dashboard/queue"


def page_for(permission: Permission) -> Callable[..., Awaitable[StaffSession]]:
    async def dependency(
        request: Request,
        session: SessionDep,
        settings: SettingsDep,
        cookie: Annotated[str | None, Depends(_cookie)],
    ) -> StaffSession:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if not cookie:
            raise SignInRequired(here)
        try:
            record = await sessions.resolve(session, cookie, settings=settings)
        except SessionEnded as exc:
            raise SignInRequired(here) from exc
        if permission not in granted(Role(record.role), record.organization_id):
            raise PageNotAllowed(Role(record.role), permission)
        return record

    return dependency


ReaderPage = Annotated[StaffSession, Depends(page_for(Permission.READ_FLAGS))]
AdminPage = Annotated[StaffSession, Depends(page_for(Permission.MANAGE_TOKENS))]
AuditorPage = Annotated[StaffSession, Depends(page_for(Permission.READ_AUDIT))]


def render(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    settings = request.app.state.settings
    response = templates.TemplateResponse(
        request,
        template,
        {"version": request.app.version, "demo": settings.mode is Mode.DEMO, **context},
        status_code=status_code,
    )
    response.headers["Content-Security-Policy"] = PAGE_CSP
    # Pages hold a CSRF token and the user's name: never cached, never kept in history.
    response.headers["Cache-Control"] = "no-store"
    return response


def _staff_context(request: Request, record: StaffSession, page: str) -> dict[str, Any]:
    settings = request.app.state.settings
    role = Role(record.role)
    permissions = granted(role, record.organization_id)
    return {
        "page": page,
        "staff": {
            "name": record.name,
            "role": role.value,
            "permissions": sorted(p.value for p in permissions),
            "is_admin": Permission.MANAGE_TOKENS in permissions,
            "system_level": record.organization_id is None,
        },
        "csrf_token": sessions.csrf_token(record, secret_key=settings.resolved_secret_key()),
        "reply_sla_hours": settings.reply_sla_hours,
    }


@router.get("", response_model=None)
async def dashboard_root() -> Response:
    return RedirectResponse("/dashboard/queue", status_code=303)


@router.get("/sign-in", response_model=None)
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    return render_sign_in(request, next_path=next)


def render_sign_in(
    request: Request, *, next_path: str | None, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    """The sign-in page; ``error`` says why the last attempt failed. It is always our own
    message, never text from the URL, so nobody can put words on our page with a link."""
    oidc = request.app.state.settings.oidc
    target = safe_next(next_path)
    return render(
        request,
        "dashboard/sign_in.html",
        {
            "page": "sign-in",
            "next": target,
            "oidc_name": oidc.display_name if oidc else None,
            "oidc_url": f"/dashboard/sign-in/oidc?next={quote(target, safe='/')}",
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/queue", response_model=None)
async def queue_page(request: Request, record: ReaderPage) -> Response:
    return render(request, "dashboard/queue.html", _staff_context(request, record, "queue"))


@router.get("/flags/{flag_id}", response_model=None)
async def flag_page(request: Request, flag_id: uuid.UUID, record: ReaderPage) -> Response:
    context = _staff_context(request, record, "queue")
    return render(request, "dashboard/flag.html", {**context, "flag_id": str(flag_id)})


@router.get("/insights", response_model=None)
async def insights_page(request: Request, record: ReaderPage) -> Response:
    return render(request, "dashboard/insights.html", _staff_context(request, record, "insights"))


@router.get("/improvements", response_model=None)
async def improvements_page(request: Request, record: ReaderPage) -> Response:
    context = _staff_context(request, record, "improvements")
    return render(request, "dashboard/improvements.html", context)


@router.get("/improvements/{improvement_id}", response_model=None)
async def improvement_page(
    request: Request, improvement_id: uuid.UUID, record: ReaderPage
) -> Response:
    context = _staff_context(request, record, "improvements")
    return render(
        request, "dashboard/improvement.html", {**context, "improvement_id": str(improvement_id)}
    )


@router.get("/transparency", response_model=None)
async def transparency_page(request: Request, record: ReaderPage) -> Response:
    context = _staff_context(request, record, "transparency")
    return render(request, "dashboard/transparency.html", context)


@router.get("/admin", response_model=None)
async def admin_page(request: Request, record: AdminPage) -> Response:
    return render(request, "dashboard/admin.html", _staff_context(request, record, "admin"))


@router.get("/audit", response_model=None)
async def audit_page(request: Request, record: AuditorPage) -> Response:
    return render(request, "dashboard/audit.html", _staff_context(request, record, "audit"))


async def sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    target = quote(safe_next(exc.next_path), safe="/")
    return RedirectResponse(f"/dashboard/sign-in?next={target}", status_code=303)


async def page_not_allowed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageNotAllowed)
    return render(
        request,
        "dashboard/forbidden.html",
        {"page": "forbidden", "role": exc.role.value, "needed": exc.permission.value},
        status_code=403,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(PageNotAllowed, page_not_allowed)
