"""Simulator settings (prefix ``EHR_SIM_``), and the fault switches tests can change live."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Faults(BaseModel):
    """What the simulated EHR does wrong, on purpose. Applies to FHIR and token requests."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: Annotated[int, Field(ge=0, le=60_000)] = 0
    error_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    # Each of these applies to the next N FHIR requests, then switches itself off.
    too_many_requests: Annotated[int, Field(ge=0)] = 0
    retry_after_seconds: Annotated[int, Field(ge=0, le=3600)] = 1
    service_unavailable: Annotated[int, Field(ge=0)] = 0
    malformed_json: Annotated[int, Field(ge=0)] = 0
    slow_body_ms: Annotated[int, Field(ge=0, le=60_000)] = 0


class SimSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EHR_SIM_", extra="ignore")

    base_url: str = "http://127.0.0.1:8100"
    # Whose EHR this is, shown on the patient list (the demo runs a hospital's and a practice's).
    site_name: str = ""
    seed: int = 1
    patients: Annotated[int, Field(ge=1, le=5000)] = 120
    clients_file: str | None = None
    access_token_seconds: Annotated[int, Field(ge=1)] = 3600
    code_seconds: Annotated[int, Field(ge=1)] = 60
    launch_seconds: Annotated[int, Field(ge=1)] = 300
    page_size: Annotated[int, Field(ge=1, le=1000)] = 50
    faults: Faults = Field(default_factory=Faults)
    # CDS Hooks 2.0 services the chart calls when orders are signed (order-sign), by their
    # service URL (``https://cds.example.org/cds-services/some-id``); discovery is that URL's
    # parent. Each call is short: the EHR never waits long for advice, and signs without it.
    cds_services: list[str] = Field(default_factory=list)
    cds_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 3.0
    # Add a patient made for the CDS Hooks demo (``ehr_sim.data.showcase``) after the seeded ones.
    showcase_patient: bool = False
    # The EHR also plays the health system's identity provider for staff sign-in: a practitioner
    # id -> the values of the id_token's "roles" claim (sent with the 'profile' scope).
    staff_roles: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "prac-00001": ["valueloop-admin"],
            "prac-00002": ["valueloop-analyst"],
            "prac-00003": ["valueloop-lead"],
        }
    )

    @property
    def fhir_base(self) -> str:
        return f"{self.base_url.rstrip('/')}/fhir"
