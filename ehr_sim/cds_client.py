"""The simulated EHR as a CDS Hooks 2.0 client: the order-sign call, and feedback.

When a clinician signs orders, the chart calls each configured CDS service the way an EHR
does (https://cds-hooks.hl7.org/2.0/):

- discovery (``GET {base}/cds-services``, cached five minutes) says what the service wants
  prefetched; each template is filled from the EHR's own store ("Prefetch Template");
- the call (``POST {base}/cds-services/{id}``) carries ``hook``, a new ``hookInstance``,
  ``fhirServer``, ``fhirAuthorization`` (a fresh access token confined to the patient, read
  scopes only, five minutes), the ``context`` (``userId``, ``patientId``, ``encounterId``,
  ``draftOrders`` as a Bundle) and the ``prefetch``;
- every request carries ``Authorization: Bearer <JWT>`` signed with the EHR's ES384 key, whose
  public half is at ``/cds/jwks`` ("Trusting CDS Clients");
- what became of a card goes back as ``POST {service}/feedback`` ("Feedback").

The EHR never depends on the service: a short timeout, and any failure (down, slow, an error
status, a malformed answer) is reported to the clinician as a sentence while signing goes on.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from ehr_sim.fhir_api import (
    MAX_COUNT,
    FhirError,
    parse_search,
    patient_access,
    readable_resource,
    run_search,
)
from ehr_sim.grants import LaunchContext
from ehr_sim.state import PendingCard, SimState
from ehr_sim.store import Resource

DISCOVERY_SECONDS = 300
FHIR_TOKEN_LIFETIME = timedelta(minutes=5)
# What the service may read with the token it is given: the patient's record, never more.
FHIR_SCOPES = tuple(
    f"patient/{resource_type}.read"
    for resource_type in (
        "Patient",
        "Encounter",
        "Condition",
        "Procedure",
        "ServiceRequest",
        "MedicationRequest",
        "Observation",
    )
)
_TOKEN = re.compile(r"\{\{\s*([A-Za-z.]+)\s*\}\}")
_INDICATORS = frozenset({"info", "warning", "critical"})


@dataclass(frozen=True)
class ServiceAnswer:
    service_url: str
    cards: tuple[PendingCard, ...] = ()
    problem: str | None = None  # why the service gave no answer, for the clinician


class CdsCallFailed(Exception):
    """A CDS service could not be used; the message is for the clinician."""


def discovery_url(service_url: str) -> str:
    """CDS Hooks 2.0 "Discovery": services live at ``{base}/cds-services/{id}``."""
    return service_url.rstrip("/").rsplit("/", 1)[0]


def service_id(service_url: str) -> str:
    return service_url.rstrip("/").rsplit("/", 1)[1]


def _client(state: SimState) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=state.cds_transport,
        timeout=state.settings.cds_timeout_seconds,
        trust_env=False,
    )


async def _request(
    state: SimState, method: str, url: str, body: dict[str, Any] | None = None
) -> Any:
    """One signed request; its JSON answer, or CdsCallFailed saying what went wrong."""
    token = state.cds_keys.sign(iss=state.settings.fhir_base, aud=url)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        async with _client(state) as http:
            response = await http.request(method, url, json=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise CdsCallFailed(f"{url} did not answer in time") from exc
    except httpx.HTTPError as exc:
        raise CdsCallFailed(f"{url} could not be reached ({type(exc).__name__})") from exc
    if not response.is_success:
        raise CdsCallFailed(f"{url} answered HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError as exc:
        raise CdsCallFailed(f"{url} did not answer with JSON") from exc


async def _prefetch_templates(state: SimState, service_url: str) -> dict[str, str]:
    cached = state.cds_discovery.get(service_url)
    if cached is not None and time.monotonic() - cached[0] < DISCOVERY_SECONDS:
        return cached[1]
    document = await _request(state, "GET", discovery_url(service_url))
    services = document.get("services") if isinstance(document, dict) else None
    wanted = service_id(service_url)
    found = next((s for s in services or [] if isinstance(s, dict) and s.get("id") == wanted), None)
    if found is None:
        raise CdsCallFailed(f"{discovery_url(service_url)} does not list a service '{wanted}'")
    raw = found.get("prefetch") or {}
    templates = {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}
    state.cds_discovery[service_url] = (time.monotonic(), templates)
    return templates


def _fill(template: str, tokens: dict[str, str]) -> str | None:
    """A prefetch template with its tokens replaced; None when one has no value here."""
    missing = [name for name in _TOKEN.findall(template) if name not in tokens]
    if missing:
        return None
    return _TOKEN.sub(lambda match: tokens[match.group(1)], template)


def _prefetched(state: SimState, query: str, patient: str) -> Resource:
    """What one filled template names, read from the store as the FHIR API would answer it
    to a token confined to ``patient`` (FhirError when it would refuse)."""
    path, _, params = query.partition("?")
    parts = path.strip("/").split("/")
    access = patient_access(parts[0], patient)
    if len(parts) == 2 and not params:
        return readable_resource(parts[0], parts[1], state, access)
    items = [*parse_qsl(params, keep_blank_values=True), ("_count", str(MAX_COUNT))]
    search = parse_search(parts[0], items, page_size=MAX_COUNT)
    self_url = f"{state.settings.fhir_base}/{query}"
    return run_search(state, access, search, self_url)


def fill_prefetch(
    state: SimState, templates: dict[str, str], context: dict[str, Any]
) -> dict[str, Resource]:
    """CDS Hooks 2.0 "Prefetch Template": each template the EHR can fill, answered from its
    store; a template it cannot fill (a token it has no value for, a search it would refuse)
    is left out, and the service reads that itself with ``fhirAuthorization``."""
    tokens = {f"context.{k}": v for k, v in context.items() if isinstance(v, str)}
    user_type, _, user_id = str(context.get("userId", "")).partition("/")
    if user_type in ("Practitioner", "PractitionerRole", "Patient", "RelatedPerson"):
        tokens[f"user{user_type}Id"] = user_id
    prefetch: dict[str, Resource] = {}
    for key, template in templates.items():
        query = _fill(template, tokens)
        if query is None:
            continue
        try:
            prefetch[key] = _prefetched(state, query, str(context["patientId"]))
        except (FhirError, KeyError, ValueError):
            continue
    return prefetch


def _fhir_authorization(
    state: SimState, service_url: str, context: dict[str, Any]
) -> dict[str, Any]:
    """CDS Hooks 2.0 "Passing the Access Token to the CDS Service": read-only, this patient."""
    subject = f"cds-service:{discovery_url(service_url)}"
    launch = LaunchContext(
        id=secrets.token_urlsafe(8),
        user=str(context["userId"]),
        patient=str(context["patientId"]),
        encounter=context.get("encounterId"),
    )
    grant = state.grants.issue_tokens(
        client_id=subject,
        scopes=FHIR_SCOPES,
        context=launch,
        lifetime=FHIR_TOKEN_LIFETIME,
        with_refresh=False,
    )
    return {
        "access_token": grant.access_token,
        "token_type": "Bearer",
        "expires_in": int(FHIR_TOKEN_LIFETIME.total_seconds()),
        "scope": " ".join(FHIR_SCOPES),
        "subject": subject,
        "patient": str(context["patientId"]),
    }


def draft_bundle(drafts: list[Resource]) -> Resource:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": draft} for draft in drafts],
    }


def hook_request(
    state: SimState, service_url: str, context: dict[str, Any], prefetch: dict[str, Resource]
) -> dict[str, Any]:
    """CDS Hooks 2.0 "HTTP Request" for the order-sign hook."""
    return {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": state.settings.fhir_base,
        "fhirAuthorization": _fhir_authorization(state, service_url, context),
        "context": context,
        "prefetch": prefetch,
    }


def _orders_of(card: dict[str, Any], drafts: tuple[str, ...]) -> tuple[str, ...]:
    """The drafts a card is about: those its suggestions would delete, else all of them."""
    named = [
        reference
        for suggestion in card.get("suggestions") or []
        if isinstance(suggestion, dict)
        for action in suggestion.get("actions") or []
        if isinstance(action, dict) and action.get("type") == "delete"
        for reference in action.get("resourceId") or []
        if reference in drafts
    ]
    return tuple(dict.fromkeys(named)) or drafts


def _cards(
    answer: Any, service_url: str, context: dict[str, Any], drafts: tuple[str, ...]
) -> tuple[PendingCard, ...]:
    """The well-formed cards of an answer; a card without a uuid or summary is dropped."""
    raw = answer.get("cards") if isinstance(answer, dict) else None
    if not isinstance(raw, list):
        raise CdsCallFailed(f"{service_url} answered without a list of cards")
    cards = []
    for card in raw:
        if not isinstance(card, dict):
            continue
        if not isinstance(card.get("uuid"), str) or not isinstance(card.get("summary"), str):
            continue
        if card.get("indicator") not in _INDICATORS:
            card = {**card, "indicator": "info"}
        cards.append(
            PendingCard(
                id=card["uuid"],
                service_url=service_url,
                encounter_id=str(context.get("encounterId")),
                patient_id=str(context["patientId"]),
                orders=_orders_of(card, drafts),
                card=card,
            )
        )
    return tuple(cards)


async def _ask(
    state: SimState, service_url: str, context: dict[str, Any], drafts: tuple[str, ...]
) -> ServiceAnswer:
    try:
        templates = await _prefetch_templates(state, service_url)
        prefetch = fill_prefetch(state, templates, context)
        answer = await _request(
            state, "POST", service_url, hook_request(state, service_url, context, prefetch)
        )
        return ServiceAnswer(service_url, _cards(answer, service_url, context, drafts))
    except CdsCallFailed as exc:
        state.cds_discovery.pop(service_url, None)  # ask again next time
        return ServiceAnswer(service_url, problem=str(exc))


async def order_sign(
    state: SimState, *, user: str, patient: str, encounter: str, drafts: list[Resource]
) -> list[ServiceAnswer]:
    """Every configured service's answer to signing ``drafts``, asked all at once."""
    context = {
        "userId": user,
        "patientId": patient,
        "encounterId": encounter,
        "draftOrders": draft_bundle(drafts),
    }
    references = tuple(f"ServiceRequest/{draft['id']}" for draft in drafts)
    return list(
        await asyncio.gather(*(_ask(state, url, context, references) for url in state.cds_services))
    )


async def send_feedback(
    state: SimState,
    card: PendingCard,
    *,
    accepted: str | None = None,
    reason: dict[str, Any] | None = None,
    comment: str | None = None,
) -> str | None:
    """CDS Hooks 2.0 "Feedback": accepted (with the suggestion taken) or overridden (with
    the reason and comment). None when the service took it, else the problem as a sentence."""
    item: dict[str, Any] = {
        "card": card.id,
        "outcome": "accepted" if accepted is not None else "overridden",
        "outcomeTimestamp": datetime.now(UTC).isoformat(),
    }
    if accepted is not None:
        item["acceptedSuggestions"] = [{"id": accepted}]
    else:
        override: dict[str, Any] = {}
        if reason is not None:
            override["reason"] = reason
        if comment:
            override["userComment"] = comment
        if override:
            item["overrideReason"] = override
    try:
        await _request(state, "POST", f"{card.service_url}/feedback", {"feedback": [item]})
    except CdsCallFailed as exc:
        return str(exc)
    return None


def safe_link_url(url: object) -> str | None:
    """Only absolute http(s) URLs become links in the chart (never ``javascript:``)."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None
