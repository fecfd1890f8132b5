"""Everything one simulated EHR process holds, reachable from requests as ``app.state.sim``."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import httpx

from ehr_sim.clients import ClientRegistry
from ehr_sim.config import Faults, SimSettings
from ehr_sim.grants import GrantStore
from ehr_sim.keys import CdsSigningKey, SigningKeys
from ehr_sim.store import ResourceStore


@dataclass(frozen=True)
class PendingCard:
    """A card the chart shows until the clinician accepts or overrides it (ehr_sim.cds_client
    gets it from a CDS service; ehr_sim.order_entry shows it)."""

    id: str
    service_url: str
    encounter_id: str
    patient_id: str
    orders: tuple[str, ...]  # the draft orders it is about ("ServiceRequest/id")
    card: dict[str, Any]  # as the service sent it (rendered escaped, never as HTML)


@dataclass
class SimState:
    settings: SimSettings
    store: ResourceStore
    clients: ClientRegistry
    grants: GrantStore = field(default_factory=GrantStore)
    keys: SigningKeys = field(default_factory=SigningKeys)
    # The live fault switches: start from settings, tests change them through /_sim/faults.
    faults: Faults = field(default_factory=Faults)
    used_assertion_ids: set[str] = field(default_factory=set)
    # Who is signed in to the EHR for standalone launches and staff sign-in (a Practitioner
    # id); None means the first practitioner. Tests switch it with PUT /_sim/user.
    signed_in_practitioner: str | None = None
    # Drives ``error_rate``: seeded, so a test that asks for 30% errors sees the same 30%.
    fault_random: random.Random = field(default_factory=random.Random)
    # The EHR as a CDS Hooks client (ehr_sim.cds_client): the services it calls (from
    # settings; tests may change them live), its JWT key, their discovered prefetch
    # templates, and the cards the chart shows until the clinician acts on them.
    cds_services: list[str] = field(default_factory=list)
    cds_keys: CdsSigningKey = field(default_factory=CdsSigningKey)
    cds_transport: httpx.AsyncBaseTransport | None = None
    cds_discovery: dict[str, tuple[float, dict[str, str]]] = field(default_factory=dict)
    cards: dict[str, PendingCard] = field(default_factory=dict)

    def reseed_faults(self) -> None:
        # Reproducible fault injection, not security: a seeded PRNG is the point.
        self.fault_random = random.Random(self.settings.seed)  # noqa: S311
