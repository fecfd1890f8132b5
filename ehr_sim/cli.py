"""``valueloop ehr-sim``: run the simulated EHR (development and tests only).

Plugged into the ``valueloop`` command through the ``valueloop.commands`` entry point, so
ValueLoop's own code never imports the simulator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError

from ehr_sim.app import create_sim_app
from ehr_sim.clients import ClientRegistration, ClientRegistry
from ehr_sim.config import Faults, SimSettings


def ehr_sim(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8100,
    clients: Annotated[
        Path | None, typer.Option(help="JSON file with a list of client registrations.")
    ] = None,
    client: Annotated[
        list[str] | None,
        typer.Option(help="A client registration as a JSON object; repeatable."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic patients.")] = 1,
    patients: Annotated[int, typer.Option(help="How many synthetic patients.")] = 120,
    latency_ms: Annotated[int, typer.Option(help="Added latency per FHIR/token request.")] = 0,
    token_seconds: Annotated[int, typer.Option(help="Access token lifetime.")] = 3600,
    public_url: Annotated[
        str | None, typer.Option(help="Base URL apps use (default http://HOST:PORT).")
    ] = None,
    cds_service: Annotated[
        list[str] | None,
        typer.Option(
            help="A CDS Hooks service the chart calls when orders are signed (its URL, "
            "e.g. http://127.0.0.1:8000/cds-services/valueloop-order-sign); repeatable."
        ),
    ] = None,
    showcase_patient: Annotated[
        bool, typer.Option(help="Add the CDS Hooks demo patient (recent low back pain).")
    ] = False,
    site_name: Annotated[
        str, typer.Option(help="Whose EHR this is, shown on the patient list.")
    ] = "",
) -> None:
    """Run the simulated EHR: SMART authorization server, FHIR R4 API and chart page.

    Synthetic patients only; for demos and tests, never production. FHIR base
    http://HOST:PORT/fhir, discovery at {FHIR base}/.well-known/smart-configuration.
    """
    try:
        registry = ClientRegistry.from_file(clients) if clients else ClientRegistry()
        for text in client or []:
            registry.add(ClientRegistration.model_validate_json(text))
        settings = SimSettings(
            base_url=public_url or f"http://{host}:{port}",
            seed=seed,
            patients=patients,
            faults=Faults(latency_ms=latency_ms),
            access_token_seconds=token_seconds,
            cds_services=cds_service or [],
            showcase_patient=showcase_patient,
            site_name=site_name,
        )
    except (ValidationError, OSError) as exc:
        typer.echo(f"Cannot start the simulated EHR: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"Simulated EHR (synthetic data only): chart {settings.base_url}/")
    typer.echo(f"FHIR base {settings.fhir_base}  ({len(registry.all())} registered apps)")
    for url in settings.cds_services:
        typer.echo(f"Calls CDS service {url} on signing (JWKS {settings.base_url}/cds/jwks)")
    uvicorn.run(create_sim_app(settings, registry), host=host, port=port, log_level="warning")
