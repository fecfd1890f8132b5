"""The ValueLoop web application: ``create_app()`` builds it from settings.

Startup refuses an unmigrated database with a message saying what to run, so a half-deployed
release never serves requests on the wrong schema.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from app import health, pages
from app.audit import router as audit_router
from app.auth import router as tokens_router
from app.cds import router as cds_router
from app.clinician import router as clinician_router
from app.config import Settings, get_settings
from app.dashboard import pages as dashboard_pages
from app.db import autocommit_session_factory, create_engine_for, session_factory
from app.ehrs import router as ehrs_router
from app.ehrs.service import register_configured
from app.errors import install_error_handlers
from app.flags import router as flags_router
from app.flags.hooks import listening
from app.improvements import router as improvements_router
from app.insights import router as insights_router
from app.interop import router as interop_router
from app.launch import router as launch_router
from app.launch import service as launch_service
from app.logging import configure_logging
from app.middleware import (
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    SameOriginWritesMiddleware,
    SecurityHeadersMiddleware,
    TextInputMiddleware,
)
from app.migrate import ensure_migrated
from app.notifications import router as notifications_router
from app.notifications import runtime as notifications
from app.notifications.email import router as email_router
from app.notifications.email.channel import log_configuration as log_email_configuration
from app.notifications.events import FlagNotifier
from app.openapi import install_error_responses
from app.organizations import router as organizations_router
from app.prices import router as prices_router
from app.reports import router as reports_router
from app.staff import oidc_router, session_router
from app.staff import router as staff_router
from app.upstream_errors import install_upstream_error_handlers
from frontend import STATIC_DIR

API_DESCRIPTION = """\
The value-opportunity registry: clinicians' call-outs of low-value care, and the quality
team's work on them (triage, assignment, replies to the reporter, closure), statistics and
exports. Authenticate with an API token: `Authorization: Bearer <token>`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    settings.resolved_secret_key()  # fail (or create the demo key) at start, not mid-request
    log_email_configuration(settings)
    # Docs assets are served by the app itself: hospital networks often block CDNs.
    app = FastAPIOffline(
        title="ValueLoop",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=_lifespan(settings),
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_upstream_error_handlers(app)
    install_error_responses(app)
    _route(app)
    _add_middleware(app, settings)
    return app


def outbound_http(settings: Settings) -> httpx.AsyncClient:
    """The one outbound HTTP client (EHR discovery, tokens, FHIR, webhooks): swapping httpx
    for httpx2 is this function."""
    return httpx.AsyncClient(
        timeout=settings.outbound_timeout_seconds,
        follow_redirects=False,
        # EHR connections are worth keeping: a TLS handshake costs more than our own work.
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=60),
    )


def _lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine_for(
            settings.database_url,
            pool_size=settings.database_pool_size,
            pool_timeout=settings.database_pool_timeout_seconds,
        )
        http = outbound_http(settings)
        try:
            await ensure_migrated(engine)
            app.state.engine = engine
            # Flag writes announce to the outbox in their own transaction (app/flags/hooks.py).
            factory = session_factory(engine, info=listening(FlagNotifier(settings)))
            app.state.session_factory = factory
            app.state.autocommit_session_factory = autocommit_session_factory(engine)
            app.state.http = http
            await register_configured(factory, settings)
            # In the background: a slow or unreachable EHR must not delay the start.
            issuers = await launch_service.registered_issuers(factory)
            app.state.warm_up = asyncio.create_task(launch_service.warm_up(http, issuers))
            async with contextlib.AsyncExitStack() as background:
                if settings.worker:
                    worker = notifications.build_worker(settings, factory, http)
                    await background.enter_async_context(notifications.running(worker))
                yield
        finally:
            warming = getattr(app.state, "warm_up", None)
            if warming is not None:
                warming.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await warming  # an unexpected failure surfaces here, at shutdown
            await http.aclose()
            await engine.dispose()

    return lifespan


def _route(app: FastAPI) -> None:
    """Pages, the launch, the clinician API, the quality API and the static files."""
    dashboard_pages.install(app)
    app.include_router(health.router)
    app.include_router(pages.router)
    app.include_router(launch_router.router)
    app.include_router(clinician_router.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(flags_router.router)
    app.include_router(improvements_router.router)
    app.include_router(insights_router.router)
    app.include_router(reports_router.router)
    app.include_router(organizations_router.router)
    app.include_router(interop_router.router)
    app.include_router(tokens_router.router)
    app.include_router(audit_router.router)
    app.include_router(ehrs_router.router)
    app.include_router(notifications_router.router)
    app.include_router(cds_router.router)
    app.include_router(prices_router.router)
    app.include_router(session_router.router)
    app.include_router(oidc_router.router)
    app.include_router(staff_router.router)
    app.include_router(email_router.router)
    app.include_router(dashboard_pages.router)


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    # Each one added wraps the ones before: ids and access logs see everything, including
    # 413s; the text check buffers bodies only after the size limit has bounded them.
    app.add_middleware(TextInputMiddleware)
    app.add_middleware(SameOriginWritesMiddleware, public_origin=settings.public_origin)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        larger={"/cds-services/": settings.cds_max_body_bytes},
    )
    app.add_middleware(RequestContextMiddleware)
