"""Request dependencies for what the running app holds: its settings and its one outbound
HTTP client."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Request

from app.config import Settings


def get_http(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.http
    return client


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


HttpDep = Annotated[httpx.AsyncClient, Depends(get_http)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
