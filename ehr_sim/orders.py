"""Order entry in the simulated EHR: a short list of orderables, draft ServiceRequests on an
encounter, and what signing or removing a draft does to it.

A draft is a ServiceRequest with ``status: draft`` and ``intent: order`` in the FHIR store,
as EHRs that expose drafts show them: the CDS Hooks order-sign call carries it in
``context.draftOrders``, and an app launched from a card can read it. Signing makes it
``active``; removing it (a CDS suggestion accepted) makes it ``revoked``, so the chart shows
what became of it.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from ehr_sim.data import codes as c
from ehr_sim.data.codes import Orderable
from ehr_sim.data.generator import concept, fhir_instant, service_category
from ehr_sim.store import Resource, ResourceStore

# Some of these a low-value rule catches for the right patient (lumbar imaging within six
# weeks of a first low back pain diagnosis, vitamin D without a risk condition); the others
# are ordinary orders that no rule is about.
ORDERABLES: dict[str, Orderable] = {
    "mri-lumbar-spine": c.MRI_LUMBAR_SPINE,
    "xray-lumbar-spine": c.XRAY_LUMBAR_SPINE,
    "vitamin-d": c.VITAMIN_D,
    "cbc": c.CBC,
    "lipid-panel": c.LIPID_PANEL,
    "tsh": c.TSH,
    "physical-therapy": c.PHYSICAL_THERAPY_REFERRAL,
}


def label(orderable: Orderable) -> str:
    code = orderable.codes[0] if orderable.codes else None
    return f"{orderable.text} (CPT {code.code})" if code else orderable.text


def add_draft(
    store: ResourceStore, encounter: Resource, key: str, *, requester: str, now: datetime
) -> Resource:
    """A draft order of ``ORDERABLES[key]`` on ``encounter``, added to the store."""
    orderable = ORDERABLES[key]
    draft: Resource = {
        "resourceType": "ServiceRequest",
        "id": f"sr-draft-{secrets.token_hex(6)}",
        "status": "draft",
        "intent": "order",
        "category": [service_category(orderable.category)],
        "priority": "routine",
        "code": concept(*orderable.codes, text=orderable.text),
        "subject": dict(encounter["subject"]),
        "encounter": {"reference": f"Encounter/{encounter['id']}"},
        "authoredOn": fhir_instant(now),
        "requester": {"reference": requester},
    }
    store.add(draft)
    return draft


def encounter_orders(store: ResourceStore, encounter_id: str) -> list[Resource]:
    """The encounter's ServiceRequests, in the order they were written."""
    reference = f"Encounter/{encounter_id}"
    return [
        order
        for order in store.all("ServiceRequest")
        if order.get("encounter", {}).get("reference") == reference
    ]


def drafts(store: ResourceStore, encounter_id: str) -> list[Resource]:
    return [o for o in encounter_orders(store, encounter_id) if o.get("status") == "draft"]


def _set_status(store: ResourceStore, reference: str, status: str) -> Resource | None:
    resource_type, _, resource_id = reference.partition("/")
    order = store.get(resource_type, resource_id)
    if order is None or order.get("status") != "draft":
        return None  # only a draft can still be signed or removed
    order["status"] = status
    return order


def sign(store: ResourceStore, reference: str) -> Resource | None:
    """The draft signed: an active order. None when it is not a draft (any more)."""
    return _set_status(store, reference, "active")


def remove(store: ResourceStore, reference: str) -> Resource | None:
    """The draft withdrawn before it was signed (``revoked``). None when it is not a draft."""
    return _set_status(store, reference, "revoked")


def display(order: Resource) -> str:
    code = order.get("code") or {}
    text = code.get("text") or next(
        (coding.get("display") for coding in code.get("coding", []) if coding.get("display")),
        None,
    )
    return str(text or order.get("id", "order"))
