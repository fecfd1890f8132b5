// The Transparency page: GET /api/v1/reports/transparency for a period (and, for system-level
// staff, an organization), drawn as tables, with the same report as CSV and PDF downloads.
// Every number comes suppressed from the server: a null count is "fewer than 11" (small cell)
// or "suppressed" (hidden to protect a small cell), never worked out here.

import { el } from "../../shared/el.js";
import { get, query } from "../api.js";

const form = document.getElementById("report-period");
const { from, to } = form.elements;
const organization = form.elements.organization || null;
const error = document.getElementById("period-error");
const status = document.getElementById("report-status");
const slots = Object.fromEntries(
  [...document.querySelectorAll("[data-slot]")].map((node) => [node.dataset.slot, node]),
);
const links = { csv: document.getElementById("download-csv"), pdf: document.getElementById("download-pdf") };

const iso = (day) => day.toISOString().slice(0, 10);

/** The last full calendar month (UTC) unless the address names a period. */
function initialState() {
  const params = new URLSearchParams(location.search);
  const today = new Date();
  const firstOfMonth = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1));
  const lastMonthEnd = new Date(firstOfMonth.getTime() - 86400000);
  const lastMonthStart = new Date(Date.UTC(lastMonthEnd.getUTCFullYear(), lastMonthEnd.getUTCMonth(), 1));
  return {
    from: params.get("from") || iso(lastMonthStart),
    to: params.get("to") || iso(lastMonthEnd),
    organization: params.get("organization") || "",
  };
}

function countText(cell) {
  if (cell.count !== null) return cell.count.toLocaleString("en-US");
  return cell.suppression === "small_cell" ? "fewer than 11" : "suppressed";
}

function cell(value, hidden) {
  return el("td", { class: hidden ? "n suppressed" : "n", text: value });
}

const count = (c) => cell(countText(c), c.count === null);
const money = (amount) =>
  cell(amount === null ? "suppressed" : `$${Number(amount).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`, amount === null);

function table(caption, headers, rows, { wide = false } = {}) {
  // A region people can scroll with the keyboard when a narrow screen cuts the table.
  return el(
    "div", { class: wide ? "table-wrap wide" : "table-wrap", role: "region", tabindex: "0", "aria-label": caption },
    el("table", { class: "report-table" },
      el("caption", { text: caption }),
      el("thead", {}, el("tr", {}, headers.map((h, i) => el("th", { scope: "col", class: i ? "n" : null, text: h })))),
      el("tbody", {}, rows)),
  );
}

function shareText(share, answered) {
  if (share !== null) return `${(share * 100).toFixed(1)}%`;
  return answered.suppressed ? "suppressed" : "not measured";
}

function medianText(median) {
  if (median.hours !== null) return `${median.hours.toFixed(2)} h`;
  return median.suppressed ? "fewer than 11" : "not measured";
}

function totalsView(totals, medians) {
  const row = (label, value) => el("tr", {}, el("th", { scope: "row", text: label }), value);
  const headline = [
    row("Flags received", count(totals.flags)),
    row("Answered (first reply)", count(totals.answered)),
    row("Share answered", cell(shareText(totals.answered_share, totals.answered), totals.answered_share === null)),
    row("Caught before the order was done", count(totals.caught_before)),
    row("Estimated cost of the flagged orders", money(totals.estimated_cost)),
    row("Estimated cost of the orders caught before", money(totals.caught_before_estimated_cost)),
  ];
  if (medians) {
    headline.push(row("Median time to first reply", cell(medianText(medians.reply), medians.reply.hours === null)));
    headline.push(row("Median time to close", cell(medianText(medians.close), medians.close.hours === null)));
  }
  const breakdown = (caption, rows, noun) => rows.length
    ? table(caption, [noun, "Flags", "Estimated cost", "Caught before", "Cost caught before"], rows.map((r) =>
      el("tr", {}, el("th", { scope: "row", text: r.label }), count(r.flags), money(r.estimated_cost),
        count(r.caught_before), money(r.caught_before_estimated_cost))), { wide: true })
    : el("p", { class: "help", text: `${caption}: no flags.` });
  return el("div", { class: "figures-grid" },
    table("Flags and answers", ["Measure", "Value"], headline),
    table("Actions taken", ["What became of the flags", "Flags"],
      totals.actions.map((a) => row(a.label, count(a.flags)))),
    breakdown("By service", totals.by_service, "Service"),
    breakdown("By reason", totals.by_reason, "Reason"));
}

function examplesView(examples) {
  if (!examples.length) {
    return el("p", { class: "help", text: "No replies on closed flags were marked to be shared in this period." });
  }
  return el("ul", { class: "examples" }, examples.map((e) =>
    el("li", {}, el("strong", { text: `${e.service} (${e.reason})` }), el("blockquote", { text: e.reply }))));
}

function params(state) {
  return { from: state.from, to: state.to, organization: state.organization || undefined };
}

async function load(state) {
  if (!state.from || !state.to || state.from > state.to) {
    error.textContent = "Choose a start date on or before the end date.";
    error.hidden = false;
    return;
  }
  error.hidden = true;
  history.replaceState(null, "", query(params(state)));
  for (const [format, link] of Object.entries(links)) {
    link.href = `/api/v1/reports/transparency${query({ ...params(state), format })}`;
  }
  slots.ours.setAttribute("aria-busy", "true");
  status.textContent = "Loading the report…";
  try {
    const report = await get(`reports/transparency${query(params(state))}`);
    const medians = { reply: report.median_hours_to_first_reply, close: report.median_hours_to_close };
    slots.ours.replaceChildren(totalsView(report.totals, medians));
    slots.examples.replaceChildren(examplesView(report.examples));
    slots.across.replaceChildren(totalsView(report.across_the_system, null));
    const who = report.organization ? report.organization.name : "all organizations you can see";
    status.textContent = `Report for ${who}, ${report.date_from} to ${report.date_to}.`;
  } catch (problem) {
    slots.ours.replaceChildren(el("p", { class: "error", text: problem.message || "The report could not be loaded." }));
    status.textContent = "The report could not be loaded.";
  } finally {
    slots.ours.setAttribute("aria-busy", "false");
  }
}

function current() {
  return { from: from.value, to: to.value, organization: organization ? organization.value : "" };
}

async function start() {
  const state = initialState();
  from.value = state.from;
  to.value = state.to;
  if (organization) {
    const { items } = await get("organizations");
    organization.append(...items.map((o) => el("option", { value: o.code, text: `${o.name} (${o.code})` })));
    organization.value = state.organization;
  }
  form.addEventListener("change", () => load(current()));
  form.addEventListener("submit", (event) => { event.preventDefault(); load(current()); });
  await load(current());
}

start();
