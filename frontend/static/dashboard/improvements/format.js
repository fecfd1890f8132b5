// How improvement work reads wherever it is shown (the board, its own page, a flag's page):
// the improvements catalog's labels, its status badge, owners, targets, money and its address.
// One copy, so "Approved" or "$1,234.00 at stake" can never mean two things on two screens.

import { el } from "../../shared/el.js";
import { words } from "../../shared/text.js";
import { get } from "../api.js";
import { orderCodeText } from "../flag-format.js";

let catalogPromise = null;

/** GET /improvements/catalog, once per page (kinds, statuses with their moves, rules). */
export function loadImprovementCatalog() {
  if (!catalogPromise) {
    catalogPromise = get("improvements/catalog").then(indexCatalog);
    // A failed fetch must not be cached: the page's "Try again" has to be able to retry it.
    catalogPromise.catch(() => {
      catalogPromise = null;
    });
  }
  return catalogPromise;
}

function indexCatalog(raw) {
  const byValue = (list) => new Map(list.map((entry) => [entry.value, entry]));
  const kinds = byValue(raw.kinds);
  const statuses = byValue(raw.statuses);
  const rules = new Map(raw.rules.map((rule) => [rule.id, rule]));
  return {
    /** Kinds, statuses (in workflow order) and rules, as the catalog lists them. */
    kinds: raw.kinds,
    statuses: raw.statuses,
    rules: raw.rules,
    kindLabel: (value) => (kinds.has(value) ? kinds.get(value).label : words(value)),
    statusLabel: (value) => (statuses.has(value) ? statuses.get(value).label : words(value)),
    /** Where an improvement in `status` may move next, in the catalog's order. */
    moves: (status) => (statuses.has(status) ? statuses.get(status).allowed_transitions : []),
    ruleTitle: (id) => (rules.has(id) ? rules.get(id).title : id),
  };
}

/** Statuses whose work is over: nothing more can be linked to them in practice. */
export const FINISHED = new Set(["declined", "measured"]);

export const improvementHref = (id) => `/dashboard/improvements/${encodeURIComponent(id)}`;

/** A status badge: the label is the signal; the class only adds colour. */
export function statusBadge(status, catalog) {
  return el("span", { class: `badge improvement-status improvement-${status}`, text: catalog.statusLabel(status) });
}

const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

/** "$1,234.00" from the API's decimal string (USD). */
export function moneyText(amount) {
  const value = Number(amount);
  return Number.isNaN(value) ? `${amount} USD` : money.format(value);
}

/** "Dr. A (clinical) + B (operational)"; null while nobody owns the work. */
export function ownersText(owners) {
  if (!owners) return null;
  return `${owners.clinical_lead.name} (clinical) + ${owners.operational_lead.name} (operational)`;
}

/** An order-code target as people read it: "CPT 72148". */
export function targetText(target) {
  return orderCodeText({ code: target }) || target.code;
}

/** What the improvement aims at, in words: its order codes and its rules' titles. */
export function aimTexts(improvement, catalog) {
  return [
    ...improvement.targets.map((target) => `Order code ${targetText(target)}`),
    ...improvement.rules.map((rule) => `Rule: ${catalog.ruleTitle(rule)}`),
  ];
}

const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });

/** A calendar date ("2025-03-14", no time of day) as people read it, never shifted by a zone. */
export function dayText(day) {
  if (!day) return "";
  const date = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? String(day) : dateOnly.format(date);
}

/** A <time> for a calendar date. */
export function dayElement(day) {
  return el("time", { datetime: day, text: dayText(day) });
}
