"""Request dependencies for what the running app holds: its settings and its one outbound
HTTP client.

Every request dependency is ``async def``, even with nothing to await: FastAPI runs a plain
``def`` dependency in a worker thread, and the hand-off to the thread and back cost about a
fifth of a flag submission's CPU (bench/README.md). ``tests/test_app.py`` keeps it so.
"""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Request

from app.config import Settings


async def get_http(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.http
    return client


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


HttpDep = Annotated[httpx.AsyncClient, Depends(get_http)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
