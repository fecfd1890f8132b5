"""The unsubscribe page: GET shows what the link stops and a button (a link checker or mail
scanner that follows links changes nothing); POST carries it out. A mail client's one-click
unsubscribe (RFC 8058 section 3.1: a POST with ``List-Unsubscribe=One-Click``) goes to the same
address. The signed token in the link is the only credential (app/notifications/email/links.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from app.db import SessionDep
from app.dependencies import SettingsDep
from app.notifications.email import service
from app.notifications.email.links import UNSUBSCRIBE_PATH
from app.pages import PAGE_CSP, templates

router = APIRouter(include_in_schema=False)

Token = Annotated[str, Query(min_length=1, max_length=1000, description="The signed link token.")]


def _page(request: Request, state: service.SubscriptionState, token: str) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, "unsubscribe.html", {"state": state, "token": token, "path": UNSUBSCRIBE_PATH}
    )
    response.headers["Content-Security-Policy"] = PAGE_CSP
    # The page names an email address: keep it out of shared caches and browser history files.
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(UNSUBSCRIBE_PATH, response_class=HTMLResponse)
async def unsubscribe_page(
    request: Request, session: SessionDep, settings: SettingsDep, token: Token
) -> HTMLResponse:
    state = await service.subscription_state(
        session, token, secret_key=settings.resolved_secret_key()
    )
    return _page(request, state, token)


@router.post(UNSUBSCRIBE_PATH, response_class=HTMLResponse)
async def change_subscription(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Token,
    action: Annotated[str | None, Form()] = None,
    one_click: Annotated[str | None, Form(alias="List-Unsubscribe")] = None,
) -> HTMLResponse:
    """Unsubscribe (the page's button, or a mail client's one-click POST) or resubscribe."""
    secret_key = settings.resolved_secret_key()
    if action == "resubscribe" and one_click is None:
        state = await service.resubscribe(session, token, secret_key=secret_key)
    else:
        state = await service.unsubscribe(session, token, secret_key=secret_key)
    return _page(request, state, token)
