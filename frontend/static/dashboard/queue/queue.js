// The triage queue: filters kept in the URL, a keyset-paged table of flags, bulk triage and
// assignment, keyboard shortcuts and a CSV export of the current filters.
//
// The view state (see state.js) is the single source of truth: every change builds a new
// state, writes it into the URL (pushState, so Back works) and loads the list from it; Back and
// Forward read it back from the URL. The page's main element carries data-state
// (loading | ready | empty | error) for CSS and the browser tests.

import { el } from "../../shared/el.js";
import { get, query, staff } from "../api.js";
import { toast } from "../common.js";
import { loadCatalog } from "../flag-format.js";
import { ownerFields } from "../flag-owner.js";
import * as bulk from "./bulk.js";
import {
  buildCatalogOptions,
  buildOwnerFilter,
  loadBreakdownOptions,
  loadOrganizationOptions,
  readForm,
  syncOwnerField,
  writeForm,
} from "./filters.js";
import { installShortcuts, openDialog } from "./keys.js";
import {
  activeFilterCount,
  filterParams,
  listParams,
  nextPage,
  pageNumber,
  previousPage,
  readState,
  SORTS,
  stateToSearch,
  withFilters,
} from "./state.js";
import { QueueTable } from "./table.js";

const root = document.getElementById("queue");
const form = document.getElementById("filters");
const panel = document.getElementById("filter-panel");
const filterError = document.getElementById("filter-error");
const listStatus = document.getElementById("list-status");
const tableWrap = document.getElementById("queue-table-wrap");
const emptyBox = document.getElementById("queue-empty");
const errorBox = document.getElementById("queue-error");
const prevButton = document.getElementById("prev-page");
const nextButton = document.getElementById("next-page");
const pageLabel = document.getElementById("page-number");
const bulkResult = document.getElementById("bulk-result");
const selectedCount = document.getElementById("selected-count");
const triageButton = document.getElementById("bulk-triage");
const assignButton = document.getElementById("bulk-assign");
const exportLink = document.getElementById("export-link");
const shortcutsDialog = document.getElementById("shortcuts-dialog");
const assignDialog = document.getElementById("assign-dialog");
const assignForm = document.getElementById("assign-form");

let state = readState();
let catalog = null;
let nextCursor = null;
// Each load gets a number; an answer to an older load (the filters changed meanwhile) is dropped.
let loadSeq = 0;
let busy = false;
let assignTargets = [];

const table = new QueueTable({
  tbody: document.getElementById("queue-rows"),
  selectAll: document.getElementById("select-all"),
  onChange: (count) => {
    selectedCount.textContent = `${count} selected`;
  },
});

// --- the list ----------------------------------------------------------------------------------

function setView(view) {
  root.dataset.state = view;
  tableWrap.setAttribute("aria-busy", String(view === "loading"));
  tableWrap.hidden = view === "empty" || view === "error";
  emptyBox.hidden = view !== "empty";
  errorBox.hidden = view !== "error";
}

/** Where a row's link goes: the flag page, told which queue view to come back to. */
function hrefFor(flag) {
  const search = stateToSearch(state);
  const from = search ? `?from=${encodeURIComponent(search)}` : "";
  return `/dashboard/flags/${encodeURIComponent(flag.id)}${from}`;
}

function sortLabel() {
  return (SORTS.find((s) => s.value === state.sort) || SORTS[0]).label;
}

/**
 * Load the page the state describes. keepCurrent re-selects the same row position afterwards
 * (after a bulk action), so keyboard work continues where it was.
 */
async function loadList({ keepCurrent = false, currentRow = null } = {}) {
  const seq = ++loadSeq;
  const previousCurrent = keepCurrent ? table.current : -1;
  setView("loading");
  listStatus.textContent = "Loading flags…";
  try {
    const data = await get(`flags${query(listParams(state))}`);
    if (seq !== loadSeq) return;
    nextCursor = data.next_cursor;
    table.render(data.items, catalog, hrefFor);
    updatePager();
    if (!data.items.length) {
      setView("empty");
      listStatus.textContent = pageNumber(state) > 1
        ? "No more flags on this page. Go back to the previous page."
        : "No flags match these filters.";
      return;
    }
    setView("ready");
    const more = data.next_cursor ? "; more on the next page" : "";
    listStatus.textContent =
      `Page ${pageNumber(state)}: ${data.items.length} ${data.items.length === 1 ? "flag" : "flags"}, ` +
      `sorted ${sortLabel()}${more}.`;
    if (previousCurrent >= 0) table.setCurrent(previousCurrent);
    else if (currentRow !== null) table.setCurrent(currentRow);
  } catch (error) {
    if (seq !== loadSeq) return;
    showListError(error);
  }
}

function showListError(error) {
  nextCursor = null;
  table.render([], catalog, hrefFor);
  updatePager();
  errorBox.querySelector('[data-slot="text"]').textContent =
    `The flags could not be loaded: ${error.message}`;
  // A cursor from an old link can expire or not fit the filters; the first page always works.
  errorBox.querySelector('[data-action="first-page"]').hidden = !state.cursor;
  setView("error");
  listStatus.textContent = "The flags could not be loaded.";
}

function updatePager() {
  const hadFocus = document.activeElement;
  prevButton.disabled = !state.cursor;
  nextButton.disabled = !nextCursor;
  pageLabel.textContent = `Page ${pageNumber(state)}`;
  // A button that just became disabled cannot keep focus; hand it to its neighbour.
  if (hadFocus === prevButton && prevButton.disabled && !nextButton.disabled) nextButton.focus();
  if (hadFocus === nextButton && nextButton.disabled && !prevButton.disabled) prevButton.focus();
}

// --- the URL -----------------------------------------------------------------------------------

/** Make `newState` the view: into the URL (a new history entry unless replacing), then load. */
function go(newState, { replace = false, ...loadOptions } = {}) {
  state = newState;
  const url = location.pathname + stateToSearch(state);
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  afterStateChange();
  return loadList(loadOptions);
}

function afterStateChange() {
  if (exportLink) {
    exportLink.href = `/api/v1/exports/flags${query({ format: "csv", ...filterParams(state) })}`;
  }
  const count = activeFilterCount(state);
  document.getElementById("filter-count").textContent = count
    ? `(${count} active)` : "(none active)";
  bulkResult.replaceChildren();
}

window.addEventListener("popstate", () => {
  state = readState();
  writeForm(form, state);
  afterStateChange();
  loadList();
});

// --- filters -----------------------------------------------------------------------------------

function applyForm() {
  filterError.hidden = true;
  const result = readForm(form);
  if (result.error) {
    filterError.textContent = result.error;
    filterError.hidden = false;
    result.input.setAttribute("aria-invalid", "true");
    return;
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  const { filters, sort, limit } = result;
  const unchanged = stateToSearch({ ...state, filters, sort, limit, cursor: "", prev: [] }) ===
    stateToSearch({ ...state, cursor: "", prev: [] });
  // Re-applying the same filters on page 1 would only add a duplicate history entry.
  if (unchanged && !state.cursor) return;
  go(withFilters(state, { filters, sort, limit }));
}

let applyTimer = null;
buildOwnerFilter(form, () => {
  clearTimeout(applyTimer);
  applyForm();
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(applyTimer);
  applyForm();
});
// Choices apply at once (after a short pause, so clicking three statuses is one load); typed
// text applies on Enter or the Apply button, so the list does not reload on every keystroke.
form.addEventListener("change", (event) => {
  if (event.target.name === "unassigned") syncOwnerField(form);
  // Typed text (the search, the assignee picker's name) applies on Enter, Apply or a pick.
  if (event.target.name === "q" || event.target.id === "f-owner") return;
  clearTimeout(applyTimer);
  applyTimer = setTimeout(applyForm, 300);
});

function clearFilters() {
  clearTimeout(applyTimer);
  filterError.hidden = true;
  // Sort and page size are how the list is read, not what it holds: they stay.
  const cleared = { ...readState(""), sort: state.sort, limit: state.limit };
  writeForm(form, cleared);
  go(cleared);
  toast("Filters cleared.");
}
document.getElementById("clear-filters").addEventListener("click", clearFilters);
emptyBox.querySelector('[data-action="clear"]').addEventListener("click", clearFilters);

// --- paging ------------------------------------------------------------------------------------

function goNext(options = {}) {
  if (!nextCursor) return;
  go(nextPage(state, nextCursor), options);
}

function goPrevious(options = {}) {
  if (!state.cursor) return;
  go(previousPage(state), options);
}

prevButton.addEventListener("click", () => goPrevious());
nextButton.addEventListener("click", () => goNext());
errorBox.querySelector('[data-action="retry"]').addEventListener("click", () => start());
errorBox.querySelector('[data-action="first-page"]').addEventListener("click", () => {
  go({ ...state, cursor: "", prev: [] });
});

// --- bulk actions ------------------------------------------------------------------------------

function showResult(result) {
  bulkResult.className = result.ok ? "bulk-result ok" : "bulk-result problem";
  const marker = el("span", { class: "result-icon", "aria-hidden": "true", text: result.ok ? "✓ " : "⚠ " });
  bulkResult.replaceChildren(el("p", {}, marker, result.summary));
  if (result.details.length) {
    bulkResult.append(el("ul", {}, ...result.details.map((line) => el("li", { text: line }))));
  }
}

function needTargets(flags, verb) {
  if (flags.length) return true;
  showResult({
    ok: false,
    summary: `Check one or more flags (or move to one with j / k) to ${verb} them.`,
    details: [],
  });
  return false;
}

async function runBulk(action) {
  if (busy) return;
  busy = true;
  root.setAttribute("aria-busy", "true");
  try {
    const result = await action();
    showResult(result);
    if (result.ok) toast(result.summary);
    if (result.reload) await loadList({ keepCurrent: true });
  } finally {
    busy = false;
    root.removeAttribute("aria-busy");
  }
}

function triageTargets() {
  if (!staff.can("work_flags")) return;
  const flags = table.targets();
  if (!needTargets(flags, "mark triaged")) return;
  runBulk(() => bulk.triage(flags, catalog));
}

// The Assign dialog exists only for roles with assign_flags (the template leaves it out).
const assignOwner = ownerFields({ legend: "Assign to" });
if (assignForm) assignForm.querySelector('[data-slot="owner"]').replaceChildren(assignOwner.element);

function openAssign() {
  if (!staff.can("assign_flags") || !assignDialog) return;
  const flags = table.targets();
  if (!needTargets(flags, "assign")) return;
  assignTargets = flags;
  assignForm.querySelector('[data-slot="count"]').textContent =
    `${flags.length} ${flags.length === 1 ? "flag" : "flags"} will get this owner.`;
  assignForm.querySelector('[data-slot="error"]').hidden = true;
  openDialog(assignDialog);
  assignOwner.focus();
}

if (assignForm) {
  assignForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const read = assignOwner.read();
    const error = assignForm.querySelector('[data-slot="error"]');
    if (read.error) {
      error.textContent = read.error;
      error.hidden = false;
      read.input.focus();
      return;
    }
    assignDialog.close();
    runBulk(() => bulk.assign(assignTargets, read.owner));
  });
  assignForm.querySelector('[data-action="cancel"]').addEventListener("click", () => assignDialog.close());
}
if (triageButton) triageButton.addEventListener("click", triageTargets);
if (assignButton) assignButton.addEventListener("click", openAssign);

// --- keyboard ----------------------------------------------------------------------------------

function openShortcuts() {
  openDialog(shortcutsDialog, shortcutsDialog.querySelector("button"));
}
document.getElementById("open-shortcuts").addEventListener("click", openShortcuts);
for (const button of document.querySelectorAll("dialog [data-action='close']")) {
  button.addEventListener("click", () => button.closest("dialog").close());
}

function openCurrent() {
  const href = table.currentHref();
  if (href) location.assign(href);
}

installShortcuts({
  j: () => table.move(1),
  k: () => table.move(-1),
  x: () => {
    if (table.current < 0) table.move(1);
    table.toggleCurrent();
  },
  o: openCurrent,
  Enter: openCurrent,
  t: triageTargets,
  a: openAssign,
  "/": () => {
    panel.open = true;
    form.elements.q.focus();
  },
  // Page changes from the keyboard put the first row in hand, so j / k carry on at once.
  n: () => goNext({ currentRow: 0 }),
  p: () => goPrevious({ currentRow: 0 }),
  "?": openShortcuts,
});

// --- start -------------------------------------------------------------------------------------

async function start() {
  setView("loading");
  listStatus.textContent = "Loading flags…";
  try {
    catalog = await loadCatalog();
  } catch (error) {
    showListError(error);
    return;
  }
  if (!form.querySelector('input[name="status"]')) buildCatalogOptions(form, catalog);
  writeForm(form, state);
  // Options with counts are a nicety; the list must not wait for them.
  // (It keeps each select's current value, so a choice from the URL survives the refill.)
  loadBreakdownOptions(form);
  loadOrganizationOptions(form);
  // Normalise the URL (drop what readState refused) without adding a history entry.
  await go(state, { replace: true });
}

// On a phone the filter bar would push the list off the screen: start with it folded.
if (window.matchMedia("(max-width: 40rem)").matches) panel.open = false;
start();
