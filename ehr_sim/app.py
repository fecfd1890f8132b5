"""The simulated EHR as one ASGI app: SMART authorization server, FHIR R4 API, chart page."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from fastapi import FastAPI

from ehr_sim import chart, faults, fhir_api, oauth, order_entry
from ehr_sim.clients import ClientRegistry
from ehr_sim.config import SimSettings
from ehr_sim.data import generate, showcase
from ehr_sim.state import SimState
from ehr_sim.store import Resource, ResourceStore


def create_sim_app(
    settings: SimSettings | None = None,
    clients: ClientRegistry | None = None,
    resources: Iterable[Resource] | None = None,
) -> FastAPI:
    """A simulated EHR. ``resources`` defaults to the seeded synthetic patients."""
    settings = settings or SimSettings()
    # Today's clock, so "current" encounters started a little while ago, not at midnight.
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    if resources is None:
        resources = generate(seed=settings.seed, patients=settings.patients, now=now)
    resources = list(resources)
    if settings.showcase_patient:
        resources.extend(showcase.back_pain_patient(resources, now))
    state = SimState(
        settings=settings,
        store=ResourceStore(resources),
        clients=clients or ClientRegistry(),
        faults=settings.faults.model_copy(),
        cds_services=list(settings.cds_services),
    )
    app = FastAPI(
        title="Simulated EHR (development and tests only)",
        description="SMART App Launch 2.x and FHIR R4 over synthetic patients. Not a product.",
        docs_url="/_sim/docs",
        openapi_url="/_sim/openapi.json",
        redoc_url=None,
    )
    state.reseed_faults()
    app.state.sim = state
    # oauth first: its /fhir/.well-known/... routes must win over /fhir/{type}/{id}.
    app.include_router(oauth.router)
    app.include_router(fhir_api.router)
    app.include_router(chart.router)
    app.include_router(order_entry.router)
    app.include_router(faults.router)
    app.add_middleware(faults.FaultMiddleware)
    return app
