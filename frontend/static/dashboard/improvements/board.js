// The improvements board: every improvement as a card in its status's column, the columns in
// workflow order (Proposed … Measured, then Declined). At narrow widths the columns stack.
// #board[data-state] is loading | ready | empty | error, for CSS and the browser tests.

import { el } from "../../shared/el.js";
import { plural } from "../../shared/text.js";
import { get } from "../api.js";
import "../common.js";
import {
  dayElement,
  improvementHref,
  loadImprovementCatalog,
  moneyText,
  ownersText,
} from "./format.js";
import { newImprovementForm } from "./new-form.js";

const root = document.getElementById("board");
const columns = document.getElementById("board-columns");
const loading = document.getElementById("board-loading");
const errorBox = document.getElementById("board-error");
const empty = document.getElementById("board-empty");

function setState(state) {
  root.dataset.state = state;
  loading.hidden = state !== "loading";
  errorBox.hidden = state !== "error";
  empty.hidden = state !== "empty";
  columns.hidden = state !== "ready";
}

function fact(term, value) {
  return el("div", { class: "card-fact" }, el("dt", { text: term }), el("dd", {}, value));
}

function card(item, catalog) {
  const titleId = `card-${item.id}`;
  const owners = ownersText(item.owners);
  return el(
    "li",
    { class: "card", "data-id": item.id, "aria-labelledby": titleId },
    el("h3", { id: titleId }, el("a", { href: improvementHref(item.id), text: item.title })),
    el("p", { class: "card-kind", text: catalog.kindLabel(item.kind) }),
    el("p", { class: "card-stake" },
      el("strong", { text: plural(item.flag_count, "flag") }), " · ",
      el("span", { "data-slot": "stake", text: `${moneyText(item.cost_at_stake)} at stake` })),
    el("dl", { class: "card-facts" },
      fact("Owners", owners || el("span", { class: "muted-text", text: "Not named yet" })),
      item.go_live ? fact("Go-live", dayElement(item.go_live)) : null,
      item.ticket_reference ? fact("Ticket", item.ticket_reference) : null),
  );
}

function column(status, items, catalog) {
  const headingId = `column-${status.value}`;
  const list = items.length
    ? el("ul", { class: "cards" }, items.map((item) => card(item, catalog)))
    : el("p", { class: "column-empty", text: "None" });
  return el(
    "section",
    { class: `board-column column-${status.value}`, "data-status": status.value, "aria-labelledby": headingId },
    el("h2", { id: headingId },
      status.label, " ", el("span", { class: "column-count", text: `(${items.length})` })),
    list,
  );
}

function render(items, catalog) {
  if (!items.length) {
    setState("empty");
    return;
  }
  columns.replaceChildren(
    ...catalog.statuses.map((status) =>
      column(status, items.filter((item) => item.status === status.value), catalog)),
  );
  setState("ready");
}

async function start() {
  setState("loading");
  try {
    const catalog = await loadImprovementCatalog();
    newImprovementForm(catalog);
    const { items } = await get("improvements");
    render(items, catalog);
  } catch (error) {
    errorBox.querySelector('[data-slot="text"]').textContent =
      `The improvements could not be loaded: ${error.message}`;
    setState("error");
  }
}

errorBox.querySelector('[data-action="retry"]').addEventListener("click", start);
start();
