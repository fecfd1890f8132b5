"""Order entry in the simulated chart, with CDS Hooks at signing, as a real EHR does it.

An encounter's page lists its orders; the clinician adds a draft from a short list and clicks
Sign. Sign calls each configured CDS service's order-sign hook (``ehr_sim.cds_client``):
drafts no card is about are signed at once; each card is shown (every text escaped, the
detail as plain text) with "Accept suggestion" (the draft is removed, feedback ``accepted``),
"Override" with the card's reasons (feedback ``overridden``, then the draft is signed), and
its SMART links, which launch the app as the Launch button does, with the link's
``appContext`` and the card's order as ``fhirContext``. A service that is down or slow is
named in a notice, and signing goes on without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ehr_sim import cds_client, orders
from ehr_sim.cds_client import safe_link_url
from ehr_sim.chart import (
    default_user,
    encounter_label,
    launch_forms,
    open_app,
    page,
    patient_name,
    sim_state,
)
from ehr_sim.state import PendingCard, SimState
from ehr_sim.store import Resource

router = APIRouter(include_in_schema=False)


@router.get("/cds/jwks")
async def cds_jwks(request: Request) -> JSONResponse:
    """The public key of the JWTs this EHR signs for CDS services ("Trusting CDS Clients")."""
    return JSONResponse(sim_state(request).cds_keys.jwks())


def _not_found(what: str) -> HTMLResponse:
    return page("Not found", f"<main><h1>No such {escape(what)}</h1></main>", status=404)


def _patient_id(encounter: Resource) -> str:
    return str(encounter.get("subject", {}).get("reference", "")).partition("/")[2]


def _order_rows(state: SimState, encounter_id: str) -> str:
    rows = "".join(
        f"<tr><td>{escape(orders.display(order))}</td><td>{escape(order.get('status', ''))}</td>"
        f"<td>{escape(str(order.get('authoredOn', ''))[:16].replace('T', ' '))}</td></tr>"
        for order in orders.encounter_orders(state.store, encounter_id)
    )
    return rows or '<tr><td colspan="3" class="note">No orders yet.</td></tr>'


def _source(card: dict[str, Any]) -> str:
    source = card.get("source")
    if not isinstance(source, dict):
        source = {}
    label = escape(str(source.get("label", "")))
    url = safe_link_url(source.get("url"))
    if url is None:
        return f'<p class="note">Source: {label}</p>'
    return f'<p class="note">Source: <a href="{escape(url)}" rel="noopener">{label}</a></p>'


def _accept_forms(pending: PendingCard) -> str:
    forms = []
    for suggestion in pending.card.get("suggestions") or []:
        if not isinstance(suggestion, dict) or not isinstance(suggestion.get("uuid"), str):
            continue
        forms.append(
            f'<form class="inline" method="post" action="/chart/cards/{escape(pending.id)}/accept">'
            f'<input type="hidden" name="suggestion" value="{escape(suggestion["uuid"])}">'
            f"<span>Suggestion: {escape(str(suggestion.get('label', '')))}</span> "
            "<button>Accept suggestion</button></form> "
        )
    return "".join(forms)


def _override_form(pending: PendingCard) -> str:
    reasons = [r for r in pending.card.get("overrideReasons") or [] if isinstance(r, dict)]
    choices = "".join(
        f'<option value="{index}">{escape(str(r.get("display") or r.get("code", "")))}</option>'
        for index, r in enumerate(reasons)
    )
    select = (
        '<label>Reason <select name="reason" required><option value="">Choose a reason</option>'
        f"{choices}</select></label> "
        if reasons
        else ""
    )
    return (
        f'<form method="post" action="/chart/cards/{escape(pending.id)}/override">{select}'
        '<label>Comment <input name="comment" maxlength="500"></label> '
        "<button>Override</button></form>"
    )


def _link_forms(pending: PendingCard) -> str:
    forms = []
    for index, link in enumerate(pending.card.get("links") or []):
        if not isinstance(link, dict):
            continue
        label = escape(str(link.get("label", "Open")))
        if link.get("type") == "smart":
            forms.append(
                f'<form class="inline" method="post" '
                f'action="/chart/cards/{escape(pending.id)}/launch">'
                f'<input type="hidden" name="link" value="{index}">'
                f"<button>{label}</button></form> "
            )
        elif (url := safe_link_url(link.get("url"))) is not None:
            forms.append(f'<a href="{escape(url)}" rel="noopener" target="_blank">{label}</a> ')
    return "".join(forms)


def _card_html(pending: PendingCard) -> str:
    """One card, every text escaped: a service's words never become the chart's markup."""
    card = pending.card
    indicator = escape(str(card["indicator"]))
    summary = escape(card["summary"])
    detail = card.get("detail")
    return (
        f'<section class="card {indicator}" aria-label="CDS card: {summary}">'
        f"<p><strong>{indicator}</strong> · {summary}</p>"
        + (f"<pre>{escape(detail)}</pre>" if isinstance(detail, str) else "")
        + _source(card)
        + f"<p>{_accept_forms(pending)}{_link_forms(pending)}</p>"
        + _override_form(pending)
        + "</section>"
    )


def _encounter_page(
    state: SimState, encounter: Resource, notices: Sequence[str] = (), status: int = 200
) -> HTMLResponse:
    patient_id = _patient_id(encounter)
    patient = state.store.get("Patient", patient_id) or {"id": patient_id}
    cards = [c for c in state.cards.values() if c.encounter_id == encounter["id"]]
    choices = "".join(
        f'<option value="{escape(key)}">{escape(orders.label(orderable))}</option>'
        for key, orderable in orders.ORDERABLES.items()
    )
    action = f"/chart/encounters/{escape(encounter['id'])}"
    services = ", ".join(state.cds_services) or "none configured"
    body = (
        f'<main><p><a href="/chart/patients/{escape(patient_id)}">'
        f"{escape(patient_name(patient))}</a></p>"
        f"<h1>{escape(encounter_label(encounter))}</h1>"
        + "".join(f'<p class="notice" role="status">{escape(n)}</p>' for n in notices)
        + ("<h2>Decision support</h2>" + "".join(_card_html(c) for c in cards) if cards else "")
        + f"<h2>Orders</h2><table><thead><tr><th>Order</th><th>Status</th><th>Written</th>"
        f"</tr></thead><tbody>{_order_rows(state, encounter['id'])}</tbody></table>"
        f'<form method="post" action="{action}/orders"><label>New order '
        f'<select name="orderable">{choices}</select></label> <button>Add draft order</button>'
        f'</form><form method="post" action="{action}/sign"><button>Sign orders</button> '
        f'<span class="note">CDS services: {escape(services)}</span></form>'
        f"<h2>Apps</h2><p>{launch_forms(state, patient_id, encounter['id'])}</p></main>"
    )
    return page(encounter_label(encounter), body, status=status)


@router.get("/chart/encounters/{encounter_id}", response_class=HTMLResponse)
async def encounter_orders(request: Request, encounter_id: str) -> HTMLResponse:
    state = sim_state(request)
    encounter = state.store.get("Encounter", encounter_id)
    return _not_found("encounter") if encounter is None else _encounter_page(state, encounter)


@router.post("/chart/encounters/{encounter_id}/orders", response_model=None)
async def add_order(request: Request, encounter_id: str, orderable: str = Form()) -> Response:
    """A draft order on the encounter, not yet signed."""
    state = sim_state(request)
    encounter = state.store.get("Encounter", encounter_id)
    if encounter is None:
        return _not_found("encounter")
    if orderable not in orders.ORDERABLES:
        return _encounter_page(state, encounter, ["Pick an order from the list."], status=400)
    orders.add_draft(
        state.store,
        encounter,
        orderable,
        requester=default_user(state, encounter),
        now=datetime.now(UTC),
    )
    return RedirectResponse(f"/chart/encounters/{encounter_id}", status_code=303)


def _sign_all(state: SimState, references: Sequence[str]) -> list[str]:
    signed = [orders.sign(state.store, reference) for reference in references]
    return [orders.display(order) for order in signed if order is not None]


@router.post("/chart/encounters/{encounter_id}/sign", response_class=HTMLResponse)
async def sign_orders(request: Request, encounter_id: str) -> HTMLResponse:
    """Sign the encounter's drafts, after asking each CDS service (order-sign)."""
    state = sim_state(request)
    encounter = state.store.get("Encounter", encounter_id)
    if encounter is None:
        return _not_found("encounter")
    drafts = orders.drafts(state.store, encounter_id)
    if not drafts:
        return _encounter_page(state, encounter, ["No draft orders to sign."])
    for stale in [c.id for c in state.cards.values() if c.encounter_id == encounter_id]:
        del state.cards[stale]  # a new signing asks again
    answers = await cds_client.order_sign(
        state,
        user=default_user(state, encounter),
        patient=_patient_id(encounter),
        encounter=encounter_id,
        drafts=drafts,
    )
    notices = [
        f"Decision support unavailable: {a.problem}. Signing without its advice."
        for a in answers
        if a.problem is not None
    ]
    held = {order for a in answers for card in a.cards for order in card.orders}
    for answer in answers:
        state.cards.update((card.id, card) for card in answer.cards)
    signed = _sign_all(
        state,
        [f"ServiceRequest/{d['id']}" for d in drafts if f"ServiceRequest/{d['id']}" not in held],
    )
    if signed:
        notices.append(f"Signed: {', '.join(signed)}.")
    if held:
        notices.append("Review the decision support cards before these orders are signed.")
    return _encounter_page(state, encounter, notices)


def _card_and_encounter(state: SimState, card_id: str) -> tuple[PendingCard, Resource] | None:
    pending = state.cards.get(card_id)
    encounter = state.store.get("Encounter", pending.encounter_id) if pending else None
    return None if pending is None or encounter is None else (pending, encounter)


@router.post("/chart/cards/{card_id}/accept", response_class=HTMLResponse)
async def accept(request: Request, card_id: str, suggestion: str = Form()) -> HTMLResponse:
    """Take the card's suggestion: its delete actions remove the drafts; feedback accepted."""
    state = sim_state(request)
    found = _card_and_encounter(state, card_id)
    if found is None:
        return _not_found("card")
    pending, encounter = found
    chosen = next(
        (
            s
            for s in pending.card.get("suggestions") or []
            if isinstance(s, dict) and s.get("uuid") == suggestion
        ),
        None,
    )
    if chosen is None:
        return _encounter_page(state, encounter, ["That card has no such suggestion."], 400)
    removed = [
        orders.remove(state.store, reference)
        for action in chosen.get("actions") or []
        if isinstance(action, dict) and action.get("type") == "delete"
        for reference in action.get("resourceId") or []
        if reference in pending.orders
    ]
    del state.cards[card_id]
    notices = [f"Removed: {orders.display(o)}." for o in removed if o is not None]
    problem = await cds_client.send_feedback(state, pending, accepted=suggestion)
    if problem is not None:
        notices.append(f"The service was not told: {problem}.")
    return _encounter_page(state, encounter, notices)


@router.post("/chart/cards/{card_id}/override", response_class=HTMLResponse)
async def override(
    request: Request, card_id: str, reason: str = Form(""), comment: str = Form("")
) -> HTMLResponse:
    """Keep the order: feedback overridden with the reason and comment, then sign it."""
    state = sim_state(request)
    found = _card_and_encounter(state, card_id)
    if found is None:
        return _not_found("card")
    pending, encounter = found
    reasons = [r for r in pending.card.get("overrideReasons") or [] if isinstance(r, dict)]
    chosen = reasons[int(reason)] if reason.isdigit() and int(reason) < len(reasons) else None
    if reasons and chosen is None:
        return _encounter_page(state, encounter, ["Choose a reason to override."], 400)
    del state.cards[card_id]
    still_held = {order for card in state.cards.values() for order in card.orders}
    signed = _sign_all(state, [o for o in pending.orders if o not in still_held])
    notices = [f"Signed: {', '.join(signed)}."] if signed else []
    problem = await cds_client.send_feedback(
        state, pending, reason=chosen, comment=comment.strip()[:500] or None
    )
    if problem is not None:
        notices.append(f"The service was not told: {problem}.")
    return _encounter_page(state, encounter, notices)


@router.post("/chart/cards/{card_id}/launch", response_model=None)
async def launch_from_card(
    request: Request, card_id: str, link: int = Form(), mode: str = Form("panel")
) -> Response:
    """A card's SMART link (CDS Hooks 2.0 "Link", type smart): launch the app whose launch URL
    it names, binding its ``appContext`` and the card's order (``fhirContext``)."""
    state = sim_state(request)
    found = _card_and_encounter(state, card_id)
    links = found[0].card.get("links") or [] if found else []
    chosen = links[link] if found and 0 <= link < len(links) else None
    if found is None or not isinstance(chosen, dict) or chosen.get("type") != "smart":
        return _not_found("SMART link")
    pending, encounter = found
    url = str(chosen.get("url", "")).rstrip("/")
    client = next(
        (c for c in state.clients.all() if c.launch_url and c.launch_url.rstrip("/") == url),
        None,
    )
    if client is None:
        return _encounter_page(
            state, encounter, [f"No registered app has the launch URL {url}."], 400
        )
    app_context = chosen.get("appContext")
    context: dict[str, Any] = {
        "user": default_user(state, encounter),
        "patient": pending.patient_id,
        "encounter": pending.encounter_id,
        "fhir_context": tuple({"reference": order} for order in pending.orders),
        "need_patient_banner": mode == "window",
        "app_context": app_context if isinstance(app_context, str) else None,
    }
    chart = bytes(_encounter_page(state, encounter).body).decode()
    return open_app(state, client, context, mode=mode, chart=chart)
