"""A minimal EHR chart: a patient list, a patient's encounters, and Launch buttons.

Launch does what an EHR does: it binds a launch id to the user, patient and encounter, then
opens the app's launch URL with ``iss`` and ``launch`` either in a 360 px side panel (an
iframe beside the chart) or in the full window. Each encounter's orders, order entry and
the CDS cards shown at signing are in ``ehr_sim.order_entry``.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ehr_sim.clients import ClientRegistration
from ehr_sim.state import SimState
from ehr_sim.store import Resource

router = APIRouter(include_in_schema=False)

SIDE_PANEL_WIDTH = 360
_STYLE = """
body{margin:0;font:15px/1.45 system-ui,sans-serif;color:#1b1f24;background:#f4f6f8}
header{background:#234;color:#fff;padding:.6rem 1rem}
header a{color:#fff}
main{padding:1rem;max-width:60rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #dde}
.layout{display:flex;gap:0;min-height:calc(100vh - 2.6rem)}
.chart{flex:1;overflow:auto}
.panel{width:360px;border-left:2px solid #234;background:#fff}
.panel iframe{width:360px;height:100%;border:0;display:block}
form.inline{display:inline}
button{font:inherit;padding:.2rem .6rem}
.note{color:#57606a;font-size:.9rem}
.notice{background:#fff8c5;border:1px solid #d4a72c;padding:.4rem .6rem;margin:.4rem 0}
.card{background:#fff;border:1px solid #dde;border-left:6px solid #57606a;padding:.6rem;
margin:.6rem 0}
.card.warning{border-left-color:#bf8700}.card.critical{border-left-color:#cf222e}
.card pre{white-space:pre-wrap;font:inherit;margin:.4rem 0}
"""


def sim_state(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Simulated EHR</title><style>{_STYLE}</style></head><body>"
        f'<header><a href="/">Simulated EHR</a> · synthetic patients only · '
        f"development and tests, not a product</header>{body}</body></html>",
        status_code=status,
    )


def patient_name(patient: Resource) -> str:
    name = (patient.get("name") or [{}])[0]
    parts = [*name.get("given", []), name.get("family", "")]
    return " ".join(part for part in parts if part) or patient["id"]


def _mrn(patient: Resource) -> str:
    for identifier in patient.get("identifier", []):
        codings = identifier.get("type", {}).get("coding", [])
        if any(coding.get("code") == "MR" for coding in codings):
            return str(identifier.get("value", ""))
    return ""


def encounter_label(encounter: Resource) -> str:
    kind = (encounter.get("type") or [{}])[0].get("text") or encounter.get("class", {}).get(
        "display", encounter.get("class", {}).get("code", "Encounter")
    )
    start = encounter.get("period", {}).get("start", "")[:16].replace("T", " ")
    return f"{kind} · {start} · {encounter.get('status', '')}"


@router.get("/", response_class=HTMLResponse)
async def patient_list(request: Request) -> HTMLResponse:
    state = sim_state(request)
    rows = "".join(
        f'<tr><td><a href="/chart/patients/{escape(p["id"])}">{escape(patient_name(p))}</a></td>'
        f"<td>{escape(p.get('birthDate', ''))}</td><td>{escape(p.get('gender', ''))}</td>"
        f"<td>{escape(_mrn(p))}</td></tr>"
        for p in state.store.all("Patient")
    )
    site = f" · {escape(state.settings.site_name)}" if state.settings.site_name else ""
    return page(
        "Patients",
        f"<main><h1>Patients{site}</h1><table><thead><tr><th>Name</th><th>Born</th><th>Sex</th>"
        f"<th>MRN</th></tr></thead><tbody>{rows}</tbody></table></main>",
    )


def _patient_encounters(state: SimState, patient_id: str) -> list[Resource]:
    reference = f"Patient/{patient_id}"
    encounters = [
        e
        for e in state.store.all("Encounter")
        if e.get("subject", {}).get("reference") == reference
    ]
    encounters.sort(key=lambda e: e.get("period", {}).get("start", ""), reverse=True)
    return encounters


def launch_forms(state: SimState, patient_id: str, encounter_id: str) -> str:
    forms = []
    for client in state.clients.all():
        if not client.launch_url:
            continue
        for mode, label in (("panel", "side panel"), ("window", "full window")):
            forms.append(
                f'<form class="inline" method="post" action="/chart/launch">'
                f'<input type="hidden" name="client_id" value="{escape(client.client_id)}">'
                f'<input type="hidden" name="patient" value="{escape(patient_id)}">'
                f'<input type="hidden" name="encounter" value="{escape(encounter_id)}">'
                f'<input type="hidden" name="mode" value="{mode}">'
                f'<button aria-label="Launch {escape(client.name)} in {label}">'
                f"Launch {escape(client.name)} ({label})</button></form> "
            )
    return "".join(forms) or '<span class="note">No app with a launch URL is registered.</span>'


@router.get("/chart/patients/{patient_id}", response_class=HTMLResponse)
async def patient_chart(request: Request, patient_id: str) -> Response:
    state = sim_state(request)
    patient = state.store.get("Patient", patient_id)
    if patient is None:
        return page("Not found", "<main><h1>No such patient</h1></main>", status=404)
    rows = "".join(
        f"<tr><td>{escape(encounter_label(e))}</td>"
        f'<td><a href="/chart/encounters/{escape(e["id"])}">Orders</a></td>'
        f"<td>{launch_forms(state, patient_id, e['id'])}</td></tr>"
        for e in _patient_encounters(state, patient_id)
    )
    born = escape(patient.get("birthDate", "?"))
    return page(
        patient_name(patient),
        f"<main><h1>{escape(patient_name(patient))}</h1><p>Born {born}"
        f" · MRN {escape(_mrn(patient))}</p><h2>Encounters</h2><table><tbody>{rows}"
        "</tbody></table></main>",
    )


def default_user(state: SimState, encounter: Resource | None) -> str:
    for participant in (encounter or {}).get("participant", []):
        reference = participant.get("individual", {}).get("reference", "")
        if reference.startswith("Practitioner/"):
            return str(reference)
    first = next(state.store.all("Practitioner"), None)
    return f"Practitioner/{first['id']}" if first else "Practitioner/unknown"


@router.post("/chart/launch", response_model=None)
async def launch(
    request: Request,
    client_id: str = Form(),
    patient: str = Form(),
    encounter: str = Form(),
    mode: str = Form("panel"),
) -> Response:
    """Start an EHR launch (SMART "EHR launch"): bind context, then open the app."""
    state = sim_state(request)
    client = state.clients.get(client_id)
    found_encounter = state.store.get("Encounter", encounter)
    if client is None or not client.launch_url or state.store.get("Patient", patient) is None:
        return page("Cannot launch", "<main><h1>Unknown app or patient</h1></main>", status=400)
    context: dict[str, Any] = {
        "user": default_user(state, found_encounter),
        "patient": patient,
        "encounter": encounter if found_encounter else None,
        "need_patient_banner": mode == "window",
    }
    chart = await patient_chart(request, patient)
    return open_app(state, client, context, mode=mode, chart=bytes(chart.body).decode())


def open_app(
    state: SimState,
    client: ClientRegistration,
    context: dict[str, Any],
    *,
    mode: str,
    chart: str,
) -> Response:
    """Bind ``context`` to a new launch id and open the app's launch URL with it: in the full
    window, or in the side panel beside the ``<main>`` of the ``chart`` page given."""
    assert client.launch_url is not None
    bound = state.grants.create_launch(**context)
    target = (
        f"{client.launch_url}?{urlencode({'iss': state.settings.fhir_base, 'launch': bound.id})}"
    )
    if mode == "window":
        return RedirectResponse(target, status_code=303)
    main = chart[chart.index("<main>") : chart.index("</main>") + 7]
    return page(
        "Chart with app",
        f'<div class="layout"><div class="chart">{main}</div><aside class="panel" '
        f'aria-label="{escape(client.name)}"><iframe title="{escape(client.name)}" '
        f'src="{escape(target)}" width="{SIDE_PANEL_WIDTH}"></iframe></aside></div>',
    )
