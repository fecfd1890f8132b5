"""Server-rendered pages (templates and static files live in ``frontend/``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from app.config import Mode
from frontend import STATIC_DIR, TEMPLATES_DIR

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES_DIR)

# Pages outside the EHR frame may not be framed at all; the in-EHR page sets its own policy.
PAGE_CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"
# The icon changes only with a release; browsers ask for /favicon.ico on every site they visit.
ICON_CACHE_CONTROL = "public, max-age=604800"


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        "home.html",
        {"version": request.app.version, "demo": request.app.state.settings.mode is Mode.DEMO},
    )
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


@router.get("/favicon.ico")
async def favicon_ico() -> FileResponse:
    """The icon browsers ask for by themselves (pages name the SVG one with rel=icon)."""
    return FileResponse(
        STATIC_DIR / "favicon.ico",
        media_type="image/vnd.microsoft.icon",
        headers={"Cache-Control": ICON_CACHE_CONTROL},
    )


@router.get("/favicon.svg")
async def favicon_svg() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "favicon.svg",
        media_type="image/svg+xml",
        headers={"Cache-Control": ICON_CACHE_CONTROL},
    )
