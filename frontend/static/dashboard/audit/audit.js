// The Audit page: the audit API (GET /api/v1/audit-events) as a filterable, paged table, and its
// CSV export with the same filters. The view lives in the URL (the API's own parameter names),
// so it can be bookmarked and Back walks through earlier views. Paging is keyset: `before_id`
// is this page's start, `prev` (repeated) the starts of the pages before it.

import { el } from "../../shared/el.js";
import { get, query } from "../api.js";
import "../common.js";

const FILTERS = ["actor", "action", "flag_id", "patient_id", "date_from", "date_to"];
const PAGE_SIZE = 50;

const root = document.getElementById("audit");
const form = document.getElementById("audit-filters");
const rows = document.getElementById("audit-rows");
const status = document.getElementById("audit-status");
const prevButton = document.getElementById("audit-prev");
const nextButton = document.getElementById("audit-next");
const pageLabel = document.getElementById("audit-page");
const exportLink = document.getElementById("audit-export");

function readState(search = location.search) {
  const params = new URLSearchParams(search);
  const filters = {};
  for (const key of FILTERS) filters[key] = (params.get(key) || "").trim();
  const beforeId = params.get("before_id") || "";
  return { filters, beforeId, prev: beforeId ? params.getAll("prev") : [] };
}

function toSearch(state) {
  const params = new URLSearchParams();
  for (const key of FILTERS) if (state.filters[key]) params.append(key, state.filters[key]);
  if (state.beforeId) {
    params.append("before_id", state.beforeId);
    for (const id of state.prev) params.append("prev", id);
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

function go(state) {
  history.pushState(null, "", `${location.pathname}${toSearch(state)}`);
  load(state);
}

function writeForm(state) {
  for (const key of FILTERS) form.elements[key].value = state.filters[key];
}

function what(event) {
  const id = event.entity_id ? ` ${event.entity_id}` : "";
  return `${event.entity_type}${id}`;
}

function row(event) {
  return el("tr", { "data-id": event.id, "data-action": event.action },
    el("td", {}, el("time", { datetime: event.at, text: event.at.replace("T", " ").slice(0, 19) })),
    el("td", { text: event.actor_id }),
    el("td", { text: event.actor_role }),
    el("td", { text: event.action }),
    el("td", { class: "what", text: what(event) }),
    el("td", { text: event.issuer || "—" }),
    el("td", { text: event.source_ip || "—" }));
}

async function load(state) {
  writeForm(state);
  exportLink.href = `/api/v1/audit-events/export${query(state.filters)}`;
  root.dataset.state = "loading";
  root.setAttribute("aria-busy", "true");
  status.classList.remove("error");
  status.textContent = "Loading audit events…";
  try {
    const page = await get(`audit-events${query({
      ...state.filters, limit: PAGE_SIZE, before_id: state.beforeId || undefined,
    })}`);
    rows.replaceChildren(...page.items.map(row));
    const number = state.beforeId ? state.prev.length + 2 : 1;
    pageLabel.textContent = `Page ${number}`;
    prevButton.disabled = !state.beforeId;
    nextButton.disabled = page.next_before_id === null;
    nextButton.dataset.before = page.next_before_id ?? "";
    root.dataset.state = page.items.length ? "ready" : "empty";
    status.textContent = page.items.length
      ? `${page.items.length} events on this page.` : "No audit events match these filters.";
  } catch (error) {
    rows.replaceChildren();
    root.dataset.state = "error";
    status.classList.add("error");
    status.textContent = `The audit trail could not be loaded: ${error.message}`;
  } finally {
    root.setAttribute("aria-busy", "false");
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const filters = {};
  for (const key of FILTERS) filters[key] = form.elements[key].value.trim();
  go({ filters, beforeId: "", prev: [] });
});

document.getElementById("audit-clear").addEventListener("click", () => {
  go({ filters: Object.fromEntries(FILTERS.map((key) => [key, ""])), beforeId: "", prev: [] });
});

nextButton.addEventListener("click", () => {
  const state = readState();
  const prev = state.beforeId ? [...state.prev, state.beforeId] : [];
  go({ ...state, beforeId: nextButton.dataset.before, prev });
});

prevButton.addEventListener("click", () => {
  const state = readState();
  const prev = [...state.prev];
  go({ ...state, beforeId: prev.pop() || "", prev });
});

window.addEventListener("popstate", () => load(readState()));
load(readState());
