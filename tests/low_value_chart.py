"""A chart in the simulated EHR whose orders the low-value rules judge, added to the running
sim's store from the test (the sim's own synthetic data is another module's to change).

An 80-year-old man in an ambulatory encounter today, with three orders: a PSA test (low-value
by ``psa-screening-older-men``, no history needed), a DXA scan a year after his last one
(``dxa-repeat-within-two-years``: the prior scan is a Procedure the rule must read from the
EHR), and a lipid panel no rule is about.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ehr_sim.server import SimServer
from lowvalue import SYSTEMS

PSA = ("cpt", "84153", "PSA test")
DXA = ("cpt", "77080", "DXA bone density scan")
LIPIDS = ("cpt", "80061", "Lipid panel")


@dataclass(frozen=True)
class Chart:
    patient: str
    encounter: str
    psa: str  # ServiceRequest ids
    dxa: str
    lipids: str


def _order(order_id: str, patient: str, encounter: str, code: tuple[str, str, str]) -> Any:
    system, value, display = code
    return {
        "resourceType": "ServiceRequest",
        "id": order_id,
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient}"},
        "encounter": {"reference": f"Encounter/{encounter}"},
        "code": {"coding": [{"system": SYSTEMS[system], "code": value, "display": display}]},
        "authoredOn": datetime.now(UTC).isoformat(timespec="seconds"),
        "requester": {"display": "Dr. Test Orderer"},
    }


def add_low_value_chart(sim: SimServer) -> Chart:
    """The chart above, under ids of its own (each call adds a new one)."""
    tag = uuid.uuid4().hex[:8]
    chart = Chart(
        patient=f"lv-{tag}",
        encounter=f"lv-enc-{tag}",
        psa=f"lv-psa-{tag}",
        dxa=f"lv-dxa-{tag}",
        lipids=f"lv-lipids-{tag}",
    )
    today = datetime.now(UTC).date()
    store = sim.state.store
    store.add(
        {
            "resourceType": "Patient",
            "id": chart.patient,
            "gender": "male",
            "birthDate": today.replace(year=today.year - 80, day=1).isoformat(),
            "name": [{"given": ["Test"], "family": f"Lowvalue{tag}"}],
        }
    )
    store.add(
        {
            "resourceType": "Encounter",
            "id": chart.encounter,
            "status": "in-progress",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": {"reference": f"Patient/{chart.patient}"},
            "period": {"start": datetime.now(UTC).isoformat(timespec="seconds")},
        }
    )
    for order_id, code in ((chart.psa, PSA), (chart.dxa, DXA), (chart.lipids, LIPIDS)):
        store.add(_order(order_id, chart.patient, chart.encounter, code))
    system, value, display = DXA
    store.add(
        {
            "resourceType": "Procedure",
            "id": f"lv-prior-dxa-{tag}",
            "status": "completed",
            "subject": {"reference": f"Patient/{chart.patient}"},
            "code": {"coding": [{"system": SYSTEMS[system], "code": value, "display": display}]},
            "performedDateTime": (today - timedelta(days=365)).isoformat(),
        }
    )
    return chart
