"""The CDS Hooks endpoints over HTTP, as an EHR calls them: discovery, a signed order-sign call
that gets a card (recorded with ids only, audited as a read of that patient), and feedback
on that card (accepted or overridden, stored once, refused when it does not fit)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.cds import clients
from app.cds.models import CardFeedback, IssuedCard
from app.config import Mode
from app.flags.models import Flag
from tests.cds.jwt_factory import ISS, Signer
from tests.cds.test_cards import conditions, hook_request
from tests.lowvalue.factories import service_request

pytestmark = pytest.mark.usefixtures("clean_tables")

SERVICE = "valueloop-order-sign"
BASE = "http://127.0.0.1:8000"  # the tests' settings.base_url: the JWT's audience


def bearer(signer: Signer, path: str) -> dict[str, str]:
    now = int(time.time())
    token = signer.sign(aud=f"{BASE}{path}", iat=now, exp=now + 120)
    return {"Authorization": f"Bearer {token}"}


async def call(client, signer: Signer, order: dict[str, Any]) -> Any:
    path = f"/cds-services/{SERVICE}"
    body = hook_request(order, conditions=conditions("M54.50")).model_dump(mode="json")
    return await client.post(path, json=body, headers=bearer(signer, path))


async def a_card(client, signer) -> dict[str, Any]:
    response = await call(client, signer, service_request("cpt", "72148"))
    assert response.status_code == 200, response.text
    [card] = response.json()["cards"]
    return dict(card)


async def feedback(client, signer, *items: dict[str, Any]) -> Any:
    path = f"/cds-services/{SERVICE}/feedback"
    return await client.post(path, json={"feedback": list(items)}, headers=bearer(signer, path))


def outcome(card: dict[str, Any], kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "card": card["uuid"],
        "outcome": kind,
        "outcomeTimestamp": datetime.now(UTC).isoformat(),
        **extra,
    }


async def test_discovery_needs_a_signed_jwt_too_and_lists_the_services(client, signer):
    refused = await client.get("/cds-services")
    response = await client.get("/cds-services", headers=bearer(signer, "/cds-services"))

    assert refused.status_code == 401
    assert response.status_code == 200
    assert {s["id"] for s in response.json()["services"]} == {
        "valueloop-order-select",
        "valueloop-order-sign",
    }


async def test_a_call_without_a_signed_jwt_is_refused(client):
    body = hook_request(service_request("cpt", "72148")).model_dump(mode="json")

    response = await client.post(f"/cds-services/{SERVICE}", json=body)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_signed_call_gets_its_card_recorded_and_audited(client, signer, session_factory):
    card = await a_card(client, signer)

    async with session_factory() as session:
        [issued] = (await session.scalars(sa.select(IssuedCard))).all()
        [audit] = (
            await session.scalars(
                sa.select(AuditEvent).where(AuditEvent.actor_kind == "cds_client")  # type: ignore[arg-type]
            )
        ).all()
    assert (str(issued.id), issued.rule_id, issued.order_ref, issued.client_iss) == (
        card["uuid"],
        "low-back-pain-imaging",
        "ServiceRequest/sr1",
        ISS,
    )
    assert (audit.actor_id, audit.entity_id, audit.details["cards"]) == (ISS, "p1", 1)


async def test_an_order_no_rule_is_about_gets_an_empty_card_list(client, signer):
    response = await call(client, signer, service_request("cpt", "99213"))

    assert response.status_code == 200
    assert response.json() == {"cards": [], "systemActions": []}


async def test_feedback_is_stored_once_accepted_or_overridden_with_its_reason(
    client, signer, session_factory
):
    accepted_card, overridden_card = await a_card(client, signer), await a_card(client, signer)
    suggestion = accepted_card["suggestions"][0]["uuid"]
    accepted = outcome(accepted_card, "accepted", acceptedSuggestions=[{"id": suggestion}])
    reason = overridden_card["overrideReasons"][0]
    overridden = outcome(
        overridden_card,
        "overridden",
        overrideReason={"reason": reason, "userComment": "Red flags were examined in clinic."},
    )

    first = await feedback(client, signer, accepted, overridden)
    again = await feedback(client, signer, accepted)

    assert (first.status_code, first.json()) == (200, {"stored": 2})
    assert (again.status_code, again.json()) == (200, {"stored": 0})
    async with session_factory() as session:
        rows = (await session.scalars(sa.select(CardFeedback))).all()
    stored = {(r.outcome, r.accepted_suggestion, r.override_code) for r in rows}
    assert stored == {("accepted", True, None), ("overridden", False, reason["code"])}


@pytest.mark.parametrize(
    ("change", "status", "said"),
    [
        ({"card": str(uuid.uuid4())}, 404, "no card"),
        ({"acceptedSuggestions": [{"id": str(uuid.uuid4())}]}, 422, "did not offer"),
        (
            {
                "outcome": "overridden",
                "overrideReason": {"reason": {"system": "urn:x", "code": "because"}},
            },
            422,
            "not one the card offered",
        ),
        (
            {"overrideReason": {"userComment": "accepted, yet a reason"}},
            422,
            "has no override reason",
        ),
    ],
)
async def test_feedback_that_does_not_fit_its_card_is_refused_and_nothing_is_stored(
    client, signer, session_factory, change, status, said
):
    card = await a_card(client, signer)
    good = outcome(card, "accepted")
    bad = {**outcome(card, "accepted"), **change}

    response = await feedback(client, signer, good, bad)

    assert response.status_code == status, response.text
    assert said in response.json()["detail"]
    async with session_factory() as session:
        assert (await session.scalars(sa.select(CardFeedback))).all() == []


async def test_another_clients_card_is_unknown_to_it(client, signer, session_factory):
    card = await a_card(client, signer)
    other = Signer.es384(kid="other-1")
    async with session_factory() as session:
        await clients.register(
            session, iss="https://other.example.org/fhir", mode=Mode.DEMO, jwks=other.jwks()
        )
        await session.commit()
    path = f"/cds-services/{SERVICE}/feedback"
    now = int(time.time())
    token = other.sign(
        iss="https://other.example.org/fhir", aud=f"{BASE}{path}", iat=now, exp=now + 120
    )

    response = await client.post(
        path,
        json={"feedback": [outcome(card, "accepted")]},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 404


async def test_a_prefetch_larger_than_an_api_write_is_accepted_up_to_its_own_limit(
    client, signer, settings
):
    path = f"/cds-services/{SERVICE}"
    encounters = [
        {
            "resourceType": "Encounter",
            "id": f"e{n}",
            "status": "finished",
            "class": {"code": "AMB"},
            "subject": {"reference": "Patient/p1"},
            "period": {"start": "2025-01-01"},
        }
        for n in range(1500)
    ]
    history = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": resource} for resource in encounters],
    }
    call_body = hook_request(
        service_request("cpt", "72148"), conditions=conditions("M54.50"), historyEncounters=history
    ).model_dump(mode="json")
    big = len(str(call_body))
    assert settings.max_body_bytes < big < settings.cds_max_body_bytes

    accepted = await client.post(path, json=call_body, headers=bearer(signer, path))
    refused = await client.post(
        path,
        content=b"{" + b" " * (settings.cds_max_body_bytes + 1) + b"}",
        headers={**bearer(signer, path), "Content-Type": "application/json"},
    )

    assert accepted.status_code == 200, accepted.text
    assert refused.status_code == 413


async def test_an_accepted_suggestion_becomes_one_caught_before_flag_and_an_override_none(
    client, signer, session_factory
):
    accepted_card, overridden_card = await a_card(client, signer), await a_card(client, signer)
    suggestion = accepted_card["suggestions"][0]["uuid"]
    accepted = outcome(accepted_card, "accepted", acceptedSuggestions=[{"id": suggestion}])
    overridden = outcome(
        overridden_card,
        "overridden",
        overrideReason={"reason": overridden_card["overrideReasons"][1]},
    )

    assert (await feedback(client, signer, accepted, overridden)).status_code == 200
    again = {**accepted, "outcomeTimestamp": datetime.now(UTC).isoformat()}  # reported twice
    assert (await feedback(client, signer, again)).status_code == 200

    async with session_factory() as session:
        [flag] = (await session.scalars(sa.select(Flag))).all()
        links = {r.flag_id for r in (await session.scalars(sa.select(CardFeedback))).all()}
    assert (flag.timing, flag.tags, flag.reason) == ("before", ["cds-catch"], "not_indicated")
    assert flag.reporter_fhir_user == "Practitioner/prac-1"
    assert (flag.order_code_system, flag.order_code) == ("http://www.ama-assn.org/go/cpt", "72148")
    assert flag.estimated_cost_cents == 20764  # the Medicare reference price of 72148
    assert "low-back-pain-imaging" in (flag.note or "")
    assert links == {flag.id, None}
