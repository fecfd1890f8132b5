"""Server-rendered pages (templates and static files live in ``frontend/``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.config import Mode
from frontend import TEMPLATES_DIR

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES_DIR)

# Pages outside the EHR frame may not be framed at all; the in-EHR page sets its own policy.
PAGE_CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        "home.html",
        {"version": request.app.version, "demo": request.app.state.settings.mode is Mode.DEMO},
    )
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response
